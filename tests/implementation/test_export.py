"""The statistician's CSVs of the workshop, SWOT analyses and interviews: study codes,
never names, and a codebook line for each column."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from enrolment.models import Physiotherapist
from implementation import workshops
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_workshop_attendance_for_the_statistician(
    client, clinic_west, coordinator, physio_west, statistician
):
    physio = Physiotherapist.objects.get(user=physio_west)
    workshop = workshops.create_workshop(
        clinic_west.cluster,
        day1=date(2017, 3, 14),
        day2=date(2017, 3, 15),
        facilitators="Dr Alice Facilitator",
        user=coordinator,
        physiotherapists=[physio],
    )
    workshops.record_attendance(
        workshop.attendances.get(),
        day1=True,
        day2=True,
        diploma_on=date(2017, 3, 15),
        user=coordinator,
    )
    client.force_login(statistician)
    home = client.get(reverse("analysis_home", args=["betterback"])).content.decode()
    assert reverse("analysis_process_csv", args=["betterback", "workshops"]) in home
    body = client.get(reverse("analysis_process_csv", args=["betterback", "workshops"]))
    text = body.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [
        {
            "physio_code": physio.study_code,
            "clinic": "MOT",
            "cluster": clinic_west.cluster.code,
            "workshop": str(workshop.pk),
            "day1": "2017-03-14",
            "day2": "2017-03-15",
            "hours": "13.5",
            "present_day1": "1",
            "present_day2": "1",
            "diploma_on": "2017-03-15",
        }
    ]
    assert "Alice" not in text and physio_west.username not in text
    codebook = client.get(reverse("analysis_process_csv", args=["betterback", "codebook"]))
    listed = {
        (r["file"], r["column"]) for r in csv.DictReader(io.StringIO(codebook.content.decode()))
    }
    assert {("workshops.csv", c) for c in rows[0]} <= listed
    for what in ("swot", "interviews"):
        assert (
            client.get(reverse("analysis_process_csv", args=["betterback", what])).status_code
            == 200
        )
    client.force_login(physio_west)
    assert (
        client.get(reverse("analysis_process_csv", args=["betterback", "workshops"])).status_code
        == 403
    )


def test_the_background_information_answered_on_day_1_reaches_the_statistician(
    client, clinic_west, coordinator, physio_west, statistician
):
    from enrolment.models import Timepoint
    from questionnaires.instruments import get
    from questionnaires.models import Response
    from questionnaires.services.saving import save_answers

    physio = Physiotherapist.objects.get(user=physio_west)
    workshops.create_workshop(
        clinic_west.cluster, day1=date(2017, 3, 14), day2=date(2017, 3, 15),
        facilitators="x", user=coordinator, physiotherapists=[physio],
    )  # fmt: skip
    before = Timepoint.objects.get(trial__code="betterback", code="pt-before")
    assert physio.contacts.filter(timepoint=before).exists()
    answers = {"sex": 1, "age": 41, "years_practice": 15, "years_primary_care": 9,
               "msk_training": 1}  # fmt: skip
    save_answers(
        instrument=get("pt_background"), timepoint=before, answers=answers, complete=True,
        mode=Response.STAFF_PAPER, user=coordinator, physiotherapist=physio,
    )  # fmt: skip
    client.force_login(statistician)
    body = client.get(reverse("analysis_process_csv", args=["betterback", "physio_items"]))
    rows = list(csv.DictReader(io.StringIO(body.content.decode())))
    got = {r["item"]: r["value"] for r in rows if r["instrument"] == "pt_background"}
    assert got == {k: str(v) for k, v in answers.items()}
    assert {r["physio_code"] for r in rows} == {physio.study_code}
    assert {r["timepoint"] for r in rows} == {"pt-before"}
