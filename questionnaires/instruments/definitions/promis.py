"""PROMIS Pain Interference and Physical Function, 4-item short forms ("4a"), as in the
PROMIS-29 profile v2.1 (IMPACt-LBP co-primary outcomes).

Which short forms IMPACt-LBP uses is not stated in the documents we have (registry entry:
"PROMIS Pain Interference and Physical Function"). We use the 4a forms of the PROMIS-29,
the profile the NIH Task Force on research standards for chronic low back pain (Deyo et
al. 2014) built its minimal dataset and impact stratification on. A trial that uses other
forms (6b, 8a...) needs its own instrument version: raw scores and T-score tables differ
between forms and must never be mixed.

Scores: ``raw`` is the sum of the four items (4-20). HealthMeasures' raw-score tables
assume every item answered; for incomplete forms it sends users to response-pattern
scoring (HealthMeasures Scoring Service), so ``raw`` is None when an item is missing.
``t_score`` and its standard error ``se`` are looked up in the HealthMeasures conversion
table of the exact form, kept as data: ``questionnaires/data/promis_<domain>_4a_tscores.csv``
(columns raw,t_score,se; ``#`` lines name the manual and the table): Pain Interference 4a
is PROMIS SF v1.0, Physical Function 4a is PROMIS SF v2.0 (the forms of the PROMIS-29
v2.1). A file that is not one row per raw score is refused rather than half used.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from django.utils.translation import gettext_noop

from ..base import PATIENT, SCALE, Answers, Instrument, Item, ScoreDef, Scores, answered
from ..registry import register

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
RAW_MIN, RAW_MAX = 4, 20

# (item id, PROMIS item code, short paraphrase). Licensed wording is loaded per trial.
PAIN_INTERFERENCE = (
    ("q1", "PAININ9", "How much did pain get in the way of your day-to-day activities?"),
    ("q2", "PAININ22", "How much did pain get in the way of work around the home?"),
    ("q3", "PAININ31", "How much did pain get in the way of taking part in social activities?"),
    ("q4", "PAININ34", "How much did pain get in the way of your household chores?"),
)
PI_ANCHORS = ("Not at all", "Very much")  # 1 not at all .. 5 very much

PHYSICAL_FUNCTION = (
    ("q1", "PFA11", "Are you able to do chores such as vacuuming or yard work?"),
    ("q2", "PFA21", "Are you able to go up and down stairs at a normal pace?"),
    ("q3", "PFA23", "Are you able to go for a walk of at least 15 minutes?"),
    ("q4", "PFA53", "Are you able to run errands and shop?"),
)
PF_ANCHORS = ("Unable to do", "Without any difficulty")  # 1 unable .. 5 without difficulty

MANUALS = {
    "pi": "HealthMeasures PROMIS Pain Interference Scoring Manual, short form conversion tables",
    "pf": "HealthMeasures PROMIS Physical Function Scoring Manual, short form conversion tables",
}


@cache
def t_score_table(domain: str) -> dict[int, tuple[float, float]] | None:
    """raw -> (T-score, SE) from ``promis_<domain>_4a_tscores.csv``, or None if not shipped."""
    path = DATA_DIR / f"promis_{domain}_4a_tscores.csv"
    if not path.exists():
        return None
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        table = {int(row["raw"]): (float(row["t_score"]), float(row["se"])) for row in rows}
    # A partial or wrong-form table must fail loudly, not score some responses.
    if sorted(table) != list(range(RAW_MIN, RAW_MAX + 1)):
        raise ValueError(f"{path.name}: needs one row per raw score {RAW_MIN}-{RAW_MAX}")
    return table


def _scorer(domain: str, item_ids: tuple[str, ...]):
    def score(answers: Answers) -> Scores:
        if not all(answered(answers, i) for i in item_ids):
            return {"raw": None, "t_score": None, "se": None}
        raw = sum(answers[i] for i in item_ids)
        table = t_score_table(domain)
        t_score, se = table[raw] if table else (None, None)
        return {"raw": raw, "t_score": t_score, "se": se}

    return score


def _instrument(code, name, domain, rows, anchors, recall, higher_means, table) -> Instrument:
    manual = MANUALS[domain]
    item_ids = tuple(item_id for item_id, _, _ in rows)
    return Instrument(
        code=code,
        version=1,
        name=name,
        respondent=PATIENT,
        items=tuple(
            Item(item_id, text, SCALE, min=1, max=5, anchors=anchors, code=promis_code)
            for item_id, promis_code, text in rows
        ),
        scores=(
            ScoreDef(
                "raw",
                f"{name}: raw sum (4-20)",
                min=RAW_MIN,
                max=RAW_MAX,
                rule=(
                    "Sum of the four items scored 1-5; missing if any item is unanswered, "
                    "since the raw-score table needs every item (HealthMeasures, PROMIS "
                    "scoring instructions)."
                ),
            ),
            ScoreDef(
                "t_score",
                f"{name}: T-score (mean 50, SD 10; higher = {higher_means})",
                rule=(
                    f"Raw sum converted with the HealthMeasures table '{table}' ({manual}), "
                    f"kept as questionnaires/data/promis_{domain}_4a_tscores.csv; missing "
                    "where the raw sum is."
                ),
            ),
            ScoreDef(
                "se",
                f"{name}: standard error of the T-score",
                rule=f"The SE column of the same table ('{table}', {manual}).",
            ),
        ),
        score_fn=_scorer(domain, item_ids),
        recall=recall,
        source=(
            f"PROMIS (HealthMeasures, Northwestern University): {table}, the 4a short form "
            f"of the PROMIS-29 profile v2.1; raw-to-T table from the {manual}."
        ),
    )


PROMIS_PI = register(
    _instrument(
        "promis_pi",
        "PROMIS Pain Interference 4a",
        "pi",
        PAIN_INTERFERENCE,
        PI_ANCHORS,
        gettext_noop("Please answer about the past 7 days."),
        "more interference",
        "PROMIS SF v1.0 - Pain Interference 4a",
    )
)
PROMIS_PF = register(
    _instrument(
        "promis_pf",
        "PROMIS Physical Function 4a",
        "pf",
        PHYSICAL_FUNCTION,
        PF_ANCHORS,
        "",  # the Physical Function items have no time frame
        "better function",
        "PROMIS SF v2.0 - Physical Function 4a",
    )
)
