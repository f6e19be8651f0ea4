"""The features that need one particular timepoint, instrument or item find it by its tag
in the protocol file (enrolment.tags), so a trial may name its codes as it likes."""

import shutil
from datetime import date

import pytest
from django.urls import reverse

from analysis import monitoring, runs
from enrolment import tags
from enrolment.models import Participant, Physiotherapist
from enrolment.protocol.reading import read_protocol
from enrolment.protocol.sections import ProtocolError
from enrolment.protocol.writing import load_protocol
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.saving import save_answers

from ..conftest import PROTOCOLS
from ..factories import PhysiotherapistFactory, UserFactory, enrol

RENAMED = {
    '"crpe-first"': '"crpe-start"',
    '"crpe-final"': '"crpe-end"',
    "crpe-final.": "crpe-end.",
    "crpe-first.": "crpe-start.",
    '"pt-before"': '"ws-pre"',
    '"pt-after"': '"ws-post"',
    '"pt-3m"': '"ws-3mo"',
    '"pt-12m"': '"ws-12mo"',
    'model-useful = "q24"': 'model-useful = "q23"',
}


def _copy(tmp_path, replacements):
    text = (PROTOCOLS / "betterback.toml").read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    shutil.copytree(PROTOCOLS / "consent", tmp_path / "consent")
    path = tmp_path / "renamed.toml"
    path.write_text(text)
    return path


@pytest.fixture
def renamed(db, tmp_path):
    trial, _ = load_protocol(_copy(tmp_path, RENAMED))
    assert not trial.timepoints.filter(code__in=["crpe-first", "crpe-final", "pt-before"]).exists()
    return trial


@pytest.fixture
def physio(renamed):
    clinic = renamed.clusters.get(code="W").clinics.get(code="MOT")
    return PhysiotherapistFactory(user=UserFactory(username="physio_renamed"), clinic=clinic)


def test_crpe_final_visit_shows_the_first_visit_under_renamed_codes(client, renamed, physio):
    participant = enrol(physio.clinic)
    client.force_login(physio.user)
    r = client.post(
        reverse("crpe_form", args=[participant.study_id, "crpe-start"]),
        {"fi1": "2", "category": "1"},
    )
    assert r.status_code == 302
    html = client.get(reverse("crpe_form", args=[participant.study_id, "crpe-end"])).content
    fi1 = html.decode().split('id="div_id_fi1"')[1].split('id="div_id_')[0]
    assert "First visit: 2 Moderate" in fi1
    assert 'name="effect"' in html.decode()  # final-visit items shown at the final visit


def test_monitoring_counts_the_missing_final_visit_crpe_under_renamed_codes(renamed, physio):
    participant = enrol(physio.clinic)
    Participant.objects.filter(pk=participant.pk).update(final_visit_on=date(2017, 8, 1))
    everyone = Participant.objects.filter(trial=renamed)
    assert list(monitoring.crpe_missing_at_final_visit(renamed, everyone)) == [participant]
    save_answers(
        instrument=get("crpe"),
        timepoint=renamed.timepoints.get(code="crpe-end"),
        answers={"fi1": 1, "category": 1},
        complete=True,
        mode=Response.STAFF_CLINIC,
        participant=participant,
    )
    assert not monitoring.crpe_missing_at_final_visit(renamed, everyone).exists()


def test_physiotherapist_dataset_reads_the_workshop_tags_and_the_useful_item(renamed, physio):
    for code, useful in (("ws-post", 2), ("ws-3mo", 4)):
        save_answers(
            instrument=get("dibq"),
            timepoint=renamed.timepoints.get(code=code),
            answers={"q23": useful, "q24": 5},
            complete=True,
            mode=Response.STAFF_CLINIC,
            physiotherapist=Physiotherapist.objects.get(pk=physio.pk),
        )
    df = runs.physio_dataset(renamed).sort_values("timepoint")
    assert list(df["timepoint"]) == ["3m", "after"]
    assert list(df["dibq_useful"]) == [4.0, 2.0]  # q23, the item the file names


def test_lookups(renamed):
    assert tags.timepoint_code(renamed, "final-visit") == "crpe-end"
    assert tags.instrument(renamed, "risk-group") == "sbst"
    assert tags.item(renamed, "dibq", "model-useful") == "q23"
    assert tags.timepoint(renamed, "no-such-tag") is None


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            'tags = ["final-visit"]',
            'tags = ["last-visit"]',
            "timepoints[9].tags: unknown tag 'last-visit'",
        ),
        (
            'tags = ["first-visit"]',
            'tags = ["final-visit"]',
            "tag 'final-visit' is given to 2 entries",
        ),
        (
            'code = "dibq"\nitem_roles',
            'code = "rmdq"\nitem_roles',
            "'rmdq' is not listed at any timepoint",
        ),
        ("model-useful =", "useful =", "instruments[1].item_roles: unknown role 'useful'"),
        ('"q24"', '"q99"', "instruments[1].item_roles: 'q99' is not an item of dibq"),
        ('tags = ["risk-group"]', 'tags = ["risk"]', "instruments[0].tags: unknown tag 'risk'"),
    ],
)
def test_bad_tags_are_refused_naming_the_key(tmp_path, old, new, message):
    with pytest.raises(ProtocolError) as exc:
        read_protocol(_copy(tmp_path, {old: new}))
    assert message in str(exc.value)
