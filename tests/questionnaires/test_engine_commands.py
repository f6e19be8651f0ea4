"""manage.py score / rescore / load_wording, and responses keeping their version."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from questionnaires.forms import InstrumentForm
from questionnaires.instruments import base, get, registry
from questionnaires.models import InstrumentWording, Response
from questionnaires.services.saving import save_answers
from tests.conftest import use_betterback_built_once

from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- score ---------------------------------------------------------------------------


def test_score_prints_json():
    out = json.loads(run("score", "nrs", "--version", "1", "--answers", '{"back": 7}'))
    assert out == {"back": 7, "leg": None}


def test_score_eq5d_with_a_value_set_and_a_version():
    from questionnaires.instruments.definitions.eq5d import index_value

    profile = {"mo": 1, "sc": 1, "ua": 2, "pd": 2, "ad": 1}
    answers = json.dumps({**profile, "vas": 70})
    for vs in ("UK", "SE"):
        out = json.loads(
            run("score", "eq5d3l", "--answers", answers, "--value-set", vs, "--version", "1")
        )
        assert out == {"index": index_value("eq5d3l", profile, vs), "profile": "11221", "vas": 70}
    # EuroQol UK (Dolan 1997): 11221 = 1 - 0.081 - 0.036 - 0.123 = 0.760
    uk = json.loads(run("score", "eq5d3l", "--answers", answers, "--value-set", "UK"))
    assert uk["index"] == pytest.approx(0.760)


@pytest.mark.parametrize(
    "args, message",
    [
        (["nrs", "--answers", "{back: 1}"], "not valid JSON"),
        (["nrs", "--answers", "[1, 2]"], "JSON object"),
        (["nrs", "--answers", '{"bak": 1}'], "bak: unknown item"),
        (["nrs", "--answers", '{"back": 11}'], "back: out of range 0-10"),
        (["nrs", "--answers", '{"back": "x"}'], "expected a whole number"),
        (["nope", "--answers", "{}"], "unknown instrument"),
        (["nrs", "--answers", "{}", "--version", "9"], "unknown instrument 'nrs' version 9"),
        (["eq5d3l", "--answers", "{}", "--value-set", "XX"], "unknown value set 'XX'"),
    ],
)
def test_score_errors_are_clear(args, message):
    with pytest.raises(CommandError, match=message):
        run("score", *args)


# --- rescore --------------------------------------------------------------------------


def test_rescore_reports_and_audits_changed_scores(clinic_west):
    p = enrol(clinic_west)
    tp = p.trial.timepoints.get(code="baseline")
    r = save_answers(
        instrument=get("nrs", 1),
        timepoint=tp,
        answers={"back": 6, "leg": 2},
        complete=True,
        mode=Response.STAFF_CLINIC,
        participant=p,
    )
    # A stored score that is wrong (as after a scoring bug was fixed).
    Response.objects.filter(pk=r.pk).update(scores={"back": 5, "leg": 2})
    out = run("rescore", "--dry-run")
    assert f"{p.study_id} baseline nrs v1 back: 5 -> 6" in out
    assert "1 scores in 1 responses would change" in out
    assert Response.objects.get(pk=r.pk).scores["back"] == 5  # dry run changes nothing
    out = run("rescore")
    assert f"{p.study_id} baseline nrs v1 back: 5 -> 6" in out
    r.refresh_from_db()
    assert r.scores == {"back": 6, "leg": 2}
    assert r.history.first().history_change_reason == "rescore"
    assert "0 scores in 0 responses changed" in run("rescore")


# --- versions --------------------------------------------------------------------------


@pytest.fixture
def throwaway():
    """A v1 of a made-up instrument; any version registered in the test is removed after."""

    def make(version, top):
        return base.Instrument(
            "zz_throwaway",
            version,
            f"Throwaway v{version}",
            base.PATIENT,
            (base.Item("q1", "How much?", base.SCALE, min=0, max=top),),
            (base.ScoreDef("total", "Total"),),
            lambda a, v=version: {"total": None if a.get("q1") is None else a["q1"] * v},
        )

    registry.register(make(1, 5))
    yield make
    for key in [k for k in registry._REGISTRY if k[0] == "zz_throwaway"]:
        del registry._REGISTRY[key]


def test_a_response_on_version_1_keeps_answers_and_scores_when_version_2_arrives(
    throwaway, clinic_west, betterback
):
    p = enrol(clinic_west)
    tp = betterback.timepoints.get(code="baseline")
    r = save_answers(
        instrument=get("zz_throwaway"),
        timepoint=tp,
        answers={"q1": 4},
        complete=True,
        mode=Response.STAFF_PAPER,
        participant=p,
    )
    assert (r.version, r.scores) == (1, {"total": 4})
    registry.register(throwaway(2, 10))
    assert get("zz_throwaway").version == 2
    r.refresh_from_db()
    assert r.version == 1 and r.answers == {"q1": 4} and r.scores == {"total": 4}
    assert r.definition().version == 1
    assert "0 scores in 0 responses changed" in run("rescore")  # still scored on v1
    # A form for this response is still the v1 form (0-5), not v2 (0-10).
    form = InstrumentForm(r.definition(), {"q1": "8"})
    assert not form.is_valid()
    # New responses use the latest version.
    p2 = enrol(clinic_west)
    r2 = save_answers(
        instrument=get("zz_throwaway"),
        timepoint=tp,
        answers={"q1": 8},
        complete=True,
        mode=Response.STAFF_PAPER,
        participant=p2,
    )
    assert (r2.version, r2.scores) == (2, {"total": 16})
    # And saving v2 answers onto the v1 response is refused.
    with pytest.raises(Exception, match="version 1"):
        save_answers(
            instrument=get("zz_throwaway"),
            timepoint=tp,
            answers={"q1": 8},
            complete=True,
            mode=Response.STAFF_PAPER,
            participant=p,
            response=r,
            reason="x",
        )


# --- wording ---------------------------------------------------------------------------


def test_load_wording_from_json_is_used_by_the_form(tmp_path, betterback):
    f = tmp_path / "nrs_sv.json"
    f.write_text(
        json.dumps(
            {
                "title": "Smärtskattning",
                "instructions": "Ringa in en siffra.",
                "items": {
                    "back": {
                        "text": "Hur ont i ryggen?",
                        "anchors": ["Ingen smärta", "Värsta tänkbara smärta"],
                    }
                },
            }
        ),
        encoding="utf-8",
    )
    out = run("load_wording", "betterback", "nrs", "sv", str(f))
    assert "nrs v1 (sv) loaded for betterback" in out
    wording = InstrumentWording.objects.get(trial=betterback, instrument="nrs", language="sv")
    from django.template import Context, Template

    form = InstrumentForm(get("nrs", 1), wording=wording)
    html = Template("{% load crispy_forms_tags %}{% crispy form %}").render(Context({"form": form}))
    assert "Hur ont i ryggen?" in html and "0 = Ingen smärta" in html
    assert "Ringa in en siffra." in html
    # Items without official wording keep ours.
    assert get("nrs", 1).item("leg").text in html
    # Loading again replaces it.
    assert "replaced" in run("load_wording", "betterback", "nrs", "sv", str(f))


def test_load_wording_from_csv(tmp_path, betterback, clinic_west, coordinator, client):
    f = tmp_path / "odi_sv.csv"
    f.write_text(
        "item,part,code,text\n"
        "_title,text,,Oswestry (svenska)\n"
        "q1,text,,Smärtintensitet\n"
        "q1,choice,0,Jag har ingen smärta just nu\n",
        encoding="utf-8",
    )
    run("load_wording", "betterback", "odi", "sv", str(f))
    w = InstrumentWording.objects.get(trial=betterback, instrument="odi", language="sv")
    assert w.title == "Oswestry (svenska)"
    assert w.items == {"q1": "Smärtintensitet"}
    assert w.choices == {"q1": {"0": "Jag har ingen smärta just nu"}}
    # The visit page of a Swedish-speaking participant uses it.
    from django.urls import reverse

    p = enrol(clinic_west, preferred_language="sv")
    client.force_login(coordinator)
    html = client.get(reverse("visit_page", args=[p.study_id, "baseline", 2])).content.decode()
    assert "Oswestry (svenska)" in html and "Smärtintensitet" in html
    assert "Jag har ingen smärta just nu" in html
    # An English-speaking participant gets our wording.
    p_en = enrol(clinic_west, preferred_language="en")
    html = client.get(reverse("visit_page", args=[p_en.study_id, "baseline", 2])).content.decode()
    assert "Smärtintensitet" not in html


@pytest.mark.parametrize(
    "content, suffix, message",
    [
        ('{"items": {"zz": "x"}}', ".json", "unknown item 'zz'"),
        ('{"items": {"q1": {"choices": {"9": "x"}}}}', ".json", "unknown choice code '9'"),
        ("{not json", ".json", "cannot read"),
        ("a,b\n1,2\n", ".csv", "columns item, part, code, text"),
    ],
)
def test_load_wording_errors(tmp_path, betterback, content, suffix, message):
    f = tmp_path / f"w{suffix}"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        run("load_wording", "betterback", "odi", "sv", str(f))
    assert not InstrumentWording.objects.exists()


def test_load_wording_unknown_trial_or_instrument(tmp_path, betterback):
    f = tmp_path / "w.json"
    f.write_text("{}", encoding="utf-8")
    with pytest.raises(CommandError, match="unknown trial"):
        run("load_wording", "nope", "odi", "sv", str(f))
    with pytest.raises(CommandError, match="unknown instrument"):
        run("load_wording", "betterback", "nope", "sv", str(f))
