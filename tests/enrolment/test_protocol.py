"""Protocol files: all four seed trials load, loading twice changes nothing, and a
malformed file stops with file, key and problem, writing nothing."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from enrolment.models import Clinic, Cluster, Participant, Physiotherapist, Timepoint, Trial
from enrolment.protocol.reading import read_protocol
from enrolment.protocol.sections import ProtocolError
from enrolment.protocol.writing import load_protocol

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"
ALL = sorted(PROTOCOLS.glob("*.toml"))


def test_every_seed_trial_has_a_protocol_file():
    assert {p.stem for p in ALL} == {"betterback", "safe", "selfback", "impact-lbp"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_each_protocol_loads(path):
    trial, report = load_protocol(path)
    assert report.created and not report.updated
    assert Trial.objects.filter(code=trial.code).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_a_first_load_reads_none_of_the_rows_it_is_creating(path):
    """A new trial has no clusters, clinics or timepoints yet: looking each up before
    writing it was a third of the queries of every trial's first load (and of every
    test that loads one)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    children = ["arm", "cluster", "clinic", "timepoint", "eligibilitycriterion",
                "deviationtype", "smsschedule"]  # fmt: skip
    with CaptureQueriesContext(connection) as ctx:
        trial, report = load_protocol(path)
    reads = {
        table: sum(
            q["sql"].startswith("SELECT") and f'FROM "enrolment_{table}"' in q["sql"]
            for q in ctx.captured_queries
        )
        for table in children
    }
    # The timepoints are read all together after the write, by the amendment check
    # (what changed, whom it re-plans): twice, whatever their number.
    assert reads.pop("timepoint") <= 2
    assert reads == dict.fromkeys(reads, 0)
    assert Clinic.objects.filter(cluster__trial=trial).count() == sum(
        line.startswith("Clinic ") for line in report.created
    )


@pytest.mark.django_db
def test_betterback_has_the_protocols_clusters(betterback):
    clusters = {
        c.code: (
            c.name,
            c.clinics.count(),
            sum(x.planned_physiotherapists for x in c.clinics.all()),
        )
        for c in Cluster.objects.filter(trial=betterback)
    }
    # Protocol, "Study setting": west 5 clinics/27 PTs, central 6/44, east 6/41.
    assert clusters == {"W": ("West", 5, 27), "C": ("Central", 6, 44), "E": ("East", 6, 41)}
    west, central, east = Cluster.objects.filter(trial=betterback).order_by("allocation_order")
    assert west.crossover <= betterback.recruitment_start  # intervention from the start
    assert betterback.recruitment_start < central.crossover < betterback.recruitment_end
    assert east.crossover is None
    patient = Timepoint.objects.filter(trial=betterback, respondent="patient")
    assert [(t.offset, t.unit) for t in patient] == [
        (0, "months"),
        (3, "months"),
        (6, "months"),
        (12, "months"),
    ]


@pytest.mark.django_db
def test_safe_has_follow_ups_to_24_months_and_weekly_sms_for_a_year():
    trial, _ = load_protocol(PROTOCOLS / "safe.toml")
    follow_ups = trial.timepoints.filter(respondent="patient", anchor="enrolment")
    assert list(follow_ups.values_list("offset", flat=True)) == [0, 3, 6, 12, 18, 24]
    # the weekly answers are stored under their own timepoint, one response per week
    assert trial.timepoints.get(code="sms").instruments == ["sms_tracking"]
    assert trial.sms_schedule.weeks == 52
    assert [q["code"] for q in trial.sms_schedule.questions] == ["pain", "sick_leave_days"]


@pytest.mark.django_db
def test_selfback_timepoints_include_six_weeks():
    trial, _ = load_protocol(PROTOCOLS / "selfback.toml")
    got = list(trial.timepoints.values_list("offset", "unit"))
    assert got == [(0, "months"), (6, "weeks"), (3, "months"), (6, "months"), (9, "months")]
    rmdq = trial.eligibility.get(code="rmdq")
    assert rmdq.rule == {"instrument": "rmdq", "score": "total", "min": 6}


@pytest.mark.django_db
def test_loading_twice_changes_nothing(capsys):
    path = PROTOCOLS / "betterback.toml"
    load_protocol(path)
    history_rows = Cluster.history.count()
    call_command("load_protocol", str(path))
    out = capsys.readouterr().out
    assert "unchanged" in out and "0 created, 0 updated" in out
    assert Cluster.history.count() == history_rows


@pytest.mark.django_db
def test_changed_crossover_is_an_audited_update(tmp_path):
    text = (PROTOCOLS / "betterback.toml").read_text().replace("2017-09-18", "2017-10-02")
    load_protocol(PROTOCOLS / "betterback.toml")
    changed = tmp_path / "betterback.toml"
    changed.write_text(text)
    _, report = load_protocol(changed)
    assert "Cluster Central (C): crossover" in report.updated
    assert not [u for u in report.updated if u.startswith(("Clinic", "Timepoint", "Arm"))]
    latest = Cluster.history.filter(code="C").latest("history_date")
    assert latest.history_change_reason == "protocol file betterback.toml"


def _broken(tmp_path, old, new):
    text = (PROTOCOLS / "betterback.toml").read_text()
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    "old,new,key,problem",
    [
        (
            "physiotherapists = 6 }",
            'physiotherapists = "six" }',
            "clusters[0].clinics[0].physiotherapists",
            "integer",
        ),
        ("crossover = 2017-09-18", 'crossover = "mid September"', "clusters[1].crossover", "date"),
        ('"sbst"]', '"sbst", "startback"]', "timepoints[0].instruments", "unknown instrument"),
        (
            'time_zone = "Europe/Stockholm"',
            'time_zone = "Europe/Linkoping"',
            "trial.time_zone",
            "not a time zone",
        ),
        ("washout_days = 14", "washout_dayz = 14", "trial.washout_dayz", "unknown key"),
        ('code = "E"', 'code = "W"', "clusters", "duplicate code ['W']"),
    ],
)
def test_malformed_file_names_file_key_and_problem(tmp_path, old, new, key, problem):
    path = _broken(tmp_path, old, new)
    with pytest.raises(ProtocolError) as exc:
        read_protocol(path)
    message = str(exc.value)
    assert str(path) in message and key in message and problem in message


@pytest.mark.parametrize(
    "old,new,problem",
    [
        ('instruments = ["sms_tracking"]', 'instruments = ["nrs"]', "sms_tracking"),
        ('code = "sick_leave_days"', 'code = "work_days"', "not items of sms_tracking"),
    ],
)
def test_sms_questions_must_be_stored_somewhere_known(tmp_path, old, new, problem):
    text = (PROTOCOLS / "safe.toml").read_text()
    assert old in text
    path = tmp_path / "safe.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ProtocolError, match=problem):
        read_protocol(path)


def test_toml_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text("[trial\ncode = 1")
    with pytest.raises(ProtocolError, match=r"x\.toml: not valid TOML"):
        read_protocol(path)


@pytest.mark.django_db
def test_malformed_file_writes_nothing(tmp_path):
    # The clusters are valid, the last timepoint is not: nothing at all may be written.
    path = _broken(
        tmp_path, 'instruments = ["crpe"]\n\n[[eligibility]]', "instruments = []\n\n[[eligibility]]"
    )
    with pytest.raises(CommandError, match="Nothing was written"):
        call_command("load_protocol", str(path))
    assert not Trial.objects.exists() and not Clinic.objects.exists()


@pytest.mark.django_db
def test_error_while_writing_rolls_back_the_whole_file(tmp_path, betterback):
    """A clinic that has participants cannot silently vanish from the protocol file."""
    from ..factories import enrol

    enrol(Clinic.objects.get(code="BOX"))
    text = (PROTOCOLS / "betterback.toml").read_text()
    text = text.replace(
        '  { code = "BOX", name = "Boxholm rehab clinic", physiotherapists = 5 },\n', ""
    )
    text = text.replace('name = "West"', 'name = "West cluster"')
    path = tmp_path / "betterback.toml"
    path.write_text(text)
    with pytest.raises(ProtocolError, match="'BOX' is missing from the file but has data"):
        load_protocol(path)
    assert Cluster.objects.get(code="W", trial=betterback).name == "West"
    assert Participant.objects.count() == 1 and not Physiotherapist.objects.exists()


def _hostile(tmp_path, kind):
    path = tmp_path / "hostile.toml"
    text = (PROTOCOLS / "betterback.toml").read_text()
    if kind == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" + bytes(range(256)) * 40)
    elif kind == "long name":
        name_line = next(line for line in text.splitlines() if line.startswith("name = "))
        path.write_text(text.replace(name_line, f'name = "{"B" * 100_000}"', 1))
    elif kind == "deep nesting":
        path.write_text(text + "\n[extra]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n")
    elif kind == "negative offset":
        path.write_text(text.replace("offset = 3", "offset = -3", 1))
    return path


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind,problem",
    [
        ("binary", "not a text file in UTF-8"),
        ("long name", "trial.name: String should have at most 300 characters"),
        ("deep nesting", "nested too deeply"),
        ("negative offset", "timepoints[1]: offset -3 is negative"),
    ],
)
def test_a_hostile_file_gets_file_key_and_problem_and_writes_nothing(tmp_path, kind, problem):
    path = _hostile(tmp_path, kind)
    with pytest.raises(CommandError) as exc:
        call_command("load_protocol", str(path))
    message = str(exc.value)
    assert message.startswith(f"{path}: ") and problem in message
    assert message.endswith("Nothing was written.") and len(message) < 2000
    assert "Traceback" not in message and "B" * 1000 not in message
    assert not Trial.objects.exists()
