"""Subject access (GDPR art. 15): a coordinator produces a participant's own data as a page,
a JSON file and a PDF, in the participant's language, never with the allocation, and
every production is logged."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from enrolment.actions.erasure import erase_personal_data
from enrolment.models import Timepoint
from privacy.models import SubjectAccess
from questionnaires.instruments import for_trial
from questionnaires.models import InstrumentWording, Response
from questionnaires.services.saving import save_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(karen):
    """Karen's baseline NRS and STarT Back, with the trial's official Danish NRS wording
    for one item (the other falls back to the paraphrase)."""
    baseline = Timepoint.objects.get(trial=karen.trial, code="baseline")
    InstrumentWording.objects.create(
        trial=karen.trial,
        instrument="nrs",
        version=1,
        language="da",
        items={"back": "Hvor ondt har du haft i lænden den seneste uge? (officiel)"},
    )
    InstrumentWording.objects.create(
        trial=karen.trial,
        instrument="sbst",
        version=1,
        language="da",
        choices={"q9": {"4": "Meget generende"}},
    )
    for code, answers in [
        ("nrs", {"back": 7, "leg": 2}),
        ("sbst", {**{f"q{i}": 1 for i in range(1, 9)}, "q9": 4}),
    ]:
        save_answers(
            instrument=for_trial(karen.trial, code),  # the version SAFE pins
            timepoint=baseline,
            answers=answers,
            complete=True,
            mode=Response.STAFF_CLINIC,
            participant=karen,
            language="da",
        )
    return karen


def allocation_words(participant) -> list[str]:
    return list(participant.trial.arms.values_list("label", flat=True))


def test_the_page_shows_her_data_in_her_language_without_the_allocation(
    client, answered, safe_staff
):
    client.force_login(safe_staff["coordinator"])
    page = client.get(reverse("subject_access", args=[answered.study_id])).content.decode()
    for text in [
        "Dine data i forsøget",  # the report's headings in Danish
        "Karen Øster Jensen",
        "050380-1234",
        "karen@example.dk",
        "Hvor ondt har du haft i lænden den seneste uge? (officiel)",  # the trial's wording
        "How intense has your leg pain been",  # no official wording: the paraphrase
        "Meget generende",  # the answer as she saw it
        "Hvor ondt har du haft i ryggen",  # the SMS question sent to her
    ]:
        assert text in page, text
    for word in allocation_words(answered):
        assert word not in page


def test_the_json_file_is_complete_and_never_names_the_allocation(client, answered, safe_staff):
    client.force_login(safe_staff["coordinator"])
    r = client.get(reverse("subject_access_json", args=[answered.study_id]))
    assert (
        r["Content-Disposition"]
        == f'attachment; filename="{answered.study_id}-subject-access.json"'
    )
    data = json.loads(r.content)
    assert data["personal_details"]["national_id"] == "050380-1234"
    assert data["consent"]["form_version"] == "1.0"
    assert [(h["kind"], h["version"]) for h in data["consent"]["history"]] == [("initial", "1.0")]
    nrs = next(q for q in data["questionnaires"] if q["instrument_code"] == "nrs")
    assert [(a["item"], a["answer"]) for a in nrs["answers"]] == [("back", 7), ("leg", 2)]
    assert {s["score"]: s["value"] for s in nrs["scores"]} == {"back": 7, "leg": 2}
    sbst = next(q for q in data["questionnaires"] if q["instrument_code"] == "sbst")
    assert sbst["scores"]  # the risk group, labelled
    weekly = next(q for q in data["questionnaires"] if q["instrument_code"] == "sms_tracking")
    assert weekly["week"] == 1
    # Her weekly answer under the question as the protocol worded it in Danish for the SMS.
    assert weekly["answers"][0]["question"].startswith("Hvor ondt har du haft i ryggen")
    assert data["sms"]["replies"][0]["text"] == "5"
    assert data["sms"]["sent"][0]["to"] == "+4520222222"
    three_months = next(c for c in data["contacts"] if c["emails"])
    assert three_months["emails"][0]["to"] == "karen@example.dk"
    text = r.content.decode()
    for word in [*allocation_words(answered), answered.condition]:
        assert f'"{word}"' not in text
    assert not {"condition", "arm", "cluster", "stratum"} & (set(data) | set(data["participation"]))
    assert "/s/" not in text  # never a survey link


def test_a_pdf_for_print(client, answered, safe_staff):
    client.force_login(safe_staff["coordinator"])
    r = client.get(reverse("subject_access_pdf", args=[answered.study_id]))
    assert r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert b"050380-1234" in r.content  # uncompressed text: searchable here
    for word in allocation_words(answered):
        assert word.encode() not in r.content


def test_every_production_is_logged_with_who_when_and_which(client, karen, safe_staff):
    coordinator = safe_staff["coordinator"]
    client.force_login(coordinator)
    for name in ("subject_access", "subject_access_json", "subject_access_pdf"):
        client.get(reverse(name, args=[karen.study_id]))
    rows = list(SubjectAccess.objects.order_by("at", "id"))
    assert [(r.user, r.participant, r.format) for r in rows] == [
        (coordinator, karen, "html"),
        (coordinator, karen, "json"),
        (coordinator, karen, "pdf"),
    ]
    assert all(r.at for r in rows)


def test_after_erasure_the_output_says_so_and_keeps_her_answers(client, karen, safe_staff):
    erase_personal_data(karen, "request")
    client.force_login(safe_staff["coordinator"])
    page = client.get(reverse("subject_access", args=[karen.study_id])).content.decode()
    assert 'id="report-erased"' in page and "Karen" not in page
    data = json.loads(client.get(reverse("subject_access_json", args=[karen.study_id])).content)
    assert data["personal_details"]["erased_at"]
    assert any(q["instrument_code"] == "sms_tracking" for q in data["questionnaires"])
