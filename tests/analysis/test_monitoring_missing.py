"""Monitoring's data-quality counts separate items missing with a reason from items missing
without one (the ones to chase), and count questionnaires marked not done."""

import pytest
from django.urls import reverse

from analysis import monitoring as mon
from analysis.monitoring.missing import split
from enrolment.models import Participant
from questionnaires import missing, not_done
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.saving import save_answers
from tests.conftest import use_betterback_built_once
from tests.factories import enrol

betterback = use_betterback_built_once()  # loaded once for the module

REQUIRED = {("odi", 1): [f"q{n}" for n in range(1, 11) if n != 8]}


def test_split_counts_reasons_apart_from_plain_blanks():
    missing_rows = [
        {
            "instrument": "odi",
            "version": 1,
            "responses": 4,
            "incomplete": 3,
            "missing_items": 12,  # required items unanswered, reasons included
            "per_item": {},
        }
    ]
    reason_rows = [
        {"instrument": "odi", "version": 1, "missing": {"q8": -98}, "not_done": False},
        {"instrument": "odi", "version": 1, "missing": {"q3": -95, "q4": -95}, "not_done": False},
        {
            "instrument": "odi",
            "version": 1,
            "missing": {f"q{n}": -99 for n in range(1, 11)},
            "not_done": True,
        },
    ]
    [row] = split(missing_rows, reason_rows, REQUIRED)
    assert row["with_reason"] == 1 + 2 + 10
    # 12 required unanswered, of which 2 lost and 9 not done (q8 is not required).
    assert row["without_reason"] == 12 - 2 - 9 == 1
    assert row["not_done"] == 1
    assert row["by_reason"] == {
        missing.label(-99): 10,
        missing.label(-98): 1,
        missing.label(-95): 2,
    }
    assert row["responses"] == 4 and row["incomplete"] == 3  # the rest unchanged


@pytest.mark.django_db
def test_the_dashboard_counts_with_and_without_a_reason(client, clinic_west, coordinator):
    odi = get("odi")
    tp = clinic_west.cluster.trial.timepoints.get(code="baseline")
    a, b, c = (enrol(clinic_west) for _ in range(3))
    full = {f"q{n}": 1 for n in range(1, 11)}
    kwargs = dict(
        instrument=odi, timepoint=tp, complete=True, mode=Response.STAFF_PAPER, user=coordinator
    )
    # a: q2 blank on paper (no reason); b: q3 lost; c: not done.
    save_answers(
        participant=a, answers={k: v for k, v in full.items() if k != "q2"}, **kwargs
    )
    save_answers(
        participant=b,
        answers={k: v for k, v in full.items() if k != "q3"},
        missing={"q3": missing.LOST},
        **kwargs,
    )
    not_done.mark_not_done(
        participant=c,
        timepoint=tp,
        instrument="odi",
        code=missing.NOT_DONE,
        why="x",
        user=coordinator,
    )
    trial = clinic_west.cluster.trial
    dq = mon.data_quality(trial, Participant.objects.filter(trial=trial))
    [row] = [r for r in dq["missing_items"] if r["instrument"] == "odi"]
    assert row["missing_items"] == 1 + 1 + 9
    assert row["without_reason"] == 1
    assert row["with_reason"] == 1 + 10
    assert row["not_done"] == 1

    client.force_login(coordinator)
    html = client.get(reverse("monitoring_dashboard", args=[trial.code])).content.decode()
    assert "without a reason" in html and 'class="text-end missing-without">1<' in html
    assert 'class="text-end missing-with" title="' in html
