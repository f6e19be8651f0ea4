"""Edit checks in protocol files are validated when the file loads: the file, the key and
the problem; nothing written."""

from pathlib import Path

import pytest

from enrolment.models import Trial
from enrolment.protocol.reading import read_protocol
from enrolment.protocol.sections import ProtocolError
from enrolment.protocol.writing import load_protocol
from tests.conftest import use_betterback_built_once

betterback = use_betterback_built_once()  # loaded once for the module

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"


def with_checks(tmp_path, checks: str) -> Path:
    text = (PROTOCOLS / "betterback.toml").read_text(encoding="utf-8")
    head = text.split("\n[[checks]]")[0]
    path = tmp_path / "bb.toml"
    path.write_text(head + "\n" + checks, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["betterback", "safe", "selfback", "impact-lbp"])
def test_every_seed_trial_ships_checks(name):
    spec = read_protocol(PROTOCOLS / f"{name}.toml")
    assert len(spec.checks) >= 4
    assert {c["kind"] for c in spec.checks} >= {"compare", "window", "range"}


@pytest.mark.parametrize(
    "check, problem",
    [
        (
            'kind = "range"\nvalue = "3m.odx.q1"\nmin = 0',
            "checks[0].value: instrument 'odx' is not asked at timepoint '3m'",
        ),
        (
            'kind = "range"\nvalue = "3m.odi.q99"\nmax = 3',
            "checks[0].value: unknown item 'q99' of odi",
        ),
        ('kind = "range"\nvalue = "9y.odi.q1"\nmax = 3', "checks[0].value: unknown timepoint '9y'"),
        ('kind = "range"\nvalue = "3m.odi.q1"', "checks[0].min: give min, max or both"),
        (
            'kind = "compare"\nleft = "enrolment.shoe_size"\nop = "<"\n'
            'right = "enrolment.enrolled_on"',
            "checks[0].left: unknown enrolment field 'shoe_size'",
        ),
        (
            'kind = "compare"\nleft = "3m.nrs.back"\nop = "<"\nright = "enrolment.enrolled_on"',
            "checks[0].right: compares a number with a date",
        ),
        (
            'kind = "compare"\nleft = "3m.nrs.back"\nop = "=<"\nright = "3m.nrs.leg"',
            "checks[0].op: unknown operator '=<'",
        ),
        (
            'kind = "window"\ntimepoint = "crpe-final"\ninstrument = "crpe"',
            "checks[0].timepoint: only timepoints anchored at enrolment have a window",
        ),
        (
            'kind = "required_if"\nvalue = "3m.eq5d3l.vas"\nwhen = "6m.eq5d3l.mo"',
            "checks[0].when: must be an item of the same response as value",
        ),
        (
            'kind = "range"\nvalue = "3m.nrs.back"\nmax = 3\nmaximum = 4',
            "checks[0].maximum: unknown key for a range check",
        ),
        ('kind = "spell"\nvalue = "3m.nrs.back"', "checks[0].kind: unknown kind 'spell'"),
        (  # an item of NRS version 2 where the file pins version 1, which has none such
            'kind = "range"\nvalue = "3m.nrs.back_average"\nmax = 10\n\n'
            '[instrument_versions]\nnrs = 1',
            "checks[0].value: unknown item 'back_average' of nrs",
        ),
    ],
)
def test_a_bad_check_names_the_file_the_key_and_the_problem(tmp_path, db, check, problem):
    path = with_checks(tmp_path, f'[[checks]]\ncode = "c1"\nmessage = "m"\n{check}\n')
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)
    assert not Trial.objects.exists()  # nothing written


def test_duplicate_codes_and_a_missing_message(tmp_path):
    check = '[[checks]]\ncode = "c1"\nkind = "birth_date_matches_national_id"\n'
    path = with_checks(tmp_path, check + 'message = "m"\n' + check)
    with pytest.raises(ProtocolError) as caught:
        read_protocol(path)
    assert "checks[1].message: required" in str(caught.value)
    assert "checks[1].code: duplicate code 'c1'" in str(caught.value)


def test_the_checks_and_the_digest_setting_are_stored_on_the_trial(betterback):
    assert [c["code"] for c in betterback.edit_checks][:2] == [
        "consent-before-enrolment",
        "birth-date-personnummer",
    ]
    assert betterback.query_digest is False  # off unless the protocol file says so


@pytest.mark.parametrize("message, problem", [
    ('{en = "m", fi = "x"}', "checks[0].message: unknown language(s) ['fi']"),
    ('{sv = "m"}', "checks[0].message: give the English text (en) too"),
    ('{en = "m", sv = ""}', "checks[0].message: every language's text must be"),
])
def test_a_message_per_language_is_checked(tmp_path, message, problem):
    check = ('[[checks]]\ncode = "c1"\nkind = "birth_date_matches_national_id"\n'
             f"message = {message}\n")
    with pytest.raises(ProtocolError) as caught:
        read_protocol(with_checks(tmp_path, check))
    assert problem in str(caught.value)


def test_a_message_per_language_loads(tmp_path):
    check = ('[[checks]]\ncode = "c1"\nkind = "birth_date_matches_national_id"\n'
             'message = {en = "Born on another day.", sv = "Fel födelsedatum."}\n')
    read_protocol(with_checks(tmp_path, check))  # no error
