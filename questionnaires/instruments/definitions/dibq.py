"""Determinants of Implementation Behaviour Questionnaire (DIBQ; Huijg et al., Implement
Sci 2014) as kept by the BetterBack trial: 10 of its domains, 57 items, each answered
1 (totally agree) to 5 (totally disagree), filled in by physiotherapists after the
workshop and at 3 and 12 months.

The item list is data: ``questionnaires/data/dibq_betterback.csv`` (item_id, domain, text).
The protocol names the domains and the item count only, so the texts there are our
paraphrases and their spread over the domains is a plausible guess (see the file's
header); a trial loads its own wording and must check ids and domains against its form.

Scores: one per domain, the mean of the domain's answered items (1-5; lower = more
agreement, i.e. a more favourable determinant). Huijg et al. report domain scores as item
means and give no missing-item rule that we could find, so a domain is scored from the
items answered and is missing only when none of its items is answered.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from django.utils.translation import gettext_noop

from ..base import PHYSIOTHERAPIST, SCALE, Answers, Instrument, Item, ScoreDef, Scores, answered
from ..registry import register

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "dibq_betterback.csv"
ITEM_COUNT = 57

# Domain slug (the score name) -> label, in the order the protocol lists them.
DOMAINS = {
    "knowledge": "Knowledge",
    "skills": "Skills",
    "beliefs_capabilities": "Beliefs about capabilities",
    "beliefs_consequences": "Beliefs about consequences",
    "intentions": "Intentions",
    "innovation": "Innovation",
    "organisation": "Organisation",
    "patient": "Patient",
    "social_influence": "Social influence",
    "behavioural_regulation": "Behavioural regulation",
}


@cache
def item_rows() -> tuple[dict[str, str], ...]:
    """The rows of the item file, checked: a malformed file must fail at import, not
    score responses against the wrong domains."""
    with DATA_FILE.open(encoding="utf-8", newline="") as f:
        rows = tuple(csv.DictReader(line for line in f if not line.startswith("#")))
    ids = [row["item_id"] for row in rows]
    if len(rows) != ITEM_COUNT or len(set(ids)) != ITEM_COUNT:
        raise ValueError(f"{DATA_FILE.name}: expected {ITEM_COUNT} items with unique ids")
    unknown = {row["domain"] for row in rows} - set(DOMAINS)
    if unknown:
        raise ValueError(f"{DATA_FILE.name}: unknown domains {sorted(unknown)}")
    empty = set(DOMAINS) - {row["domain"] for row in rows}
    if empty:
        raise ValueError(f"{DATA_FILE.name}: domains without items {sorted(empty)}")
    return rows


def items_by_domain() -> dict[str, tuple[str, ...]]:
    return {
        domain: tuple(row["item_id"] for row in item_rows() if row["domain"] == domain)
        for domain in DOMAINS
    }


def score_dibq(answers: Answers) -> Scores:
    scores: Scores = {}
    for domain, item_ids in items_by_domain().items():
        values = [answers[i] for i in item_ids if answered(answers, i)]
        scores[domain] = sum(values) / len(values) if values else None
    return scores


DIBQ = register(
    Instrument(
        code="dibq",
        version=1,
        name="Determinants of Implementation Behaviour Questionnaire (BetterBack)",
        respondent=PHYSIOTHERAPIST,
        items=tuple(
            Item(
                row["item_id"],
                row["text"],
                SCALE,
                min=1,
                max=5,
                anchors=("Totally agree", "Totally disagree"),
                required=False,
                section=DOMAINS[row["domain"]],
            )
            for row in item_rows()
        ),
        scores=tuple(
            ScoreDef(
                slug,
                f"DIBQ {label} (mean 1-5)",
                min=1,
                max=5,
                rule=(
                    f"Mean of the answered {label} items scored 1 totally agree - 5 totally "
                    "disagree; missing if none is answered (Huijg et al., Implement Sci 2014)."
                ),
            )
            for slug, label in DOMAINS.items()
        ),
        score_fn=score_dibq,
        recall=gettext_noop(
            "Please answer about working according "
            "to the BetterBack model of care."
        ),
        source=(
            "Huijg JM et al. Measuring determinants of implementation behavior: psychometric "
            "properties of a questionnaire based on the theoretical domains framework. "
            "Implement Sci 2014;9:33; BetterBack trial protocol (10 domains, 57 items, 1-5)."
        ),
    )
)
