"""Costs asked of patients (BetterBack: medication, absenteeism, reduced productivity),
priced by the protocol file's ``[prices] questionnaire`` map: ``"<instrument>.<item>" =
"<price item>"``. Each item is a count over its recall period, so a participant's
quantity is the sum over their completed final responses; the rows join the registry's
utilisation table for the cost-effectiveness run (analysis.plan.cea)."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from enrolment.models import Trial
from questionnaires.models import Response


def utilisation(trial: Trial) -> pd.DataFrame:
    priced = (trial.prices or {}).get("questionnaire") or {}
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for key, price_item in priced.items():
        code, _, item_id = key.partition(".")
        answers = Response.objects.filter(
            participant__trial=trial,
            instrument=code,
            entry=Response.FINAL,
            completed_at__isnull=False,
        ).values_list("participant__study_id", "answers")
        for study_id, given in answers:
            value = (given or {}).get(item_id)
            if isinstance(value, int | float):
                totals[(study_id, price_item)] += value
    rows = [(sid, item, q) for (sid, item), q in sorted(totals.items())]
    return pd.DataFrame(rows, columns=["study_id", "item", "quantity"])
