"""CRPE-tool: Clinical Reasoning and Process Evaluation tool of the BetterBack trial.

A physiotherapist fills it in about a patient at the first and the final visit
(the visit is the timepoint, not an item). The item lists, KVÅ and ICD-10 codes and
labels are data in ``questionnaires/data/crpe_v1.json``, transcribed from the
protocol's supplementary file 1 (Abbott et al., BMJ Open 2018;8:e019906).

Answers to items a physiotherapist does not assess stay empty: only the graded items
count in the summary scores, so no grade item is required.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ..base import (
    CHOICE,
    CLINICIAN,
    MULTI,
    NUMBER,
    TEXT,
    YESNO,
    Answers,
    Choice,
    Instrument,
    Item,
    ScoreDef,
    Scores,
    answered,
)
from ..registry import register

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "crpe_v1.json"
OTHER = 99  # choice code of the form's "Other ..." line in a treatment group


@cache
def data() -> dict:
    """The transcribed paper form (read once)."""
    with DATA_FILE.open(encoding="utf-8") as f:
        return json.load(f)


def _grade_items(rows: list[dict], section: str, grades: tuple[Choice, ...]) -> list[Item]:
    # CHOICE rather than SCALE: the form heads each grade column with a label.
    return [
        Item(
            id=row["id"],
            text=row["text"],
            kind=CHOICE,
            choices=grades,
            required=False,
            section=section,
            help=row.get("help", ""),
            code=row["kva"],
        )
        for row in rows
    ]


def _kva_label(option: dict) -> str:
    return f"{option['label']} ({option['kva']})" if option["kva"] else option["label"]


def _treatment_items(d: dict) -> list[Item]:
    # One MULTI per MODE/TYPE group: the form is a "cross X all used" checklist under
    # headings, with no "No" box, so an unticked box means "not used", not "missing".
    # The same KVÅ code is printed beside several boxes (QB011 x5), so the choice code,
    # not the KVÅ code, names the box; the KVÅ code is shown in the label and kept in
    # the data (see treatment_kva_codes).
    items = []
    for group in d["treatment_groups"]:
        items.append(
            Item(
                id=group["id"],
                text=group["text"],
                kind=MULTI,
                choices=tuple(Choice(o["code"], _kva_label(o)) for o in group["options"]),
                required=False,
                section=group["section"],
            )
        )
        if group["other_id"]:
            items.append(
                Item(
                    id=group["other_id"],
                    text=f"{group['section']}: other, please specify",
                    kind=TEXT,
                    required=False,
                    section=group["section"],
                )
            )
    return items


def _items() -> tuple[Item, ...]:
    d = data()
    grades = tuple(Choice(g["code"], g["label"]) for g in d["grades"])
    diag = d["diagnostic_section"]
    final = d["final_visit_section"]
    visits = d["visits_item"]
    effect = d["effect_item"]
    items = [
        *_grade_items(d["impairment_items"], d["impairment_section"], grades),
        *_grade_items(d["activity_items"], d["activity_section"], grades),
        Item(
            id=d["category_item"]["id"],
            text=d["category_item"]["text"],
            kind=CHOICE,
            choices=tuple(Choice(c["code"], c["label"]) for c in d["categories"]),
            section=diag,
        ),
        Item(
            id=d["icd10_item"]["id"],
            text=d["icd10_item"]["text"],
            kind=MULTI,
            choices=tuple(
                Choice(c["code"], f"{c['icd10']} {c['label']}") for c in d["icd10_codes"]
            ),
            required=False,  # at the final visit a new code is circled only "if relevant"
            section=diag,
        ),
        Item(
            id=visits["id"],
            text=visits["text"],
            kind=NUMBER,
            min=visits["min"],
            max=visits["max"],
            required=False,
            section=final,
        ),
        *(
            Item(id=b["id"], text=b["text"], kind=YESNO, required=False, section=final)
            for b in d["betterback_items"]
        ),
        *_treatment_items(d),
        Item(
            id=effect["id"],
            text=effect["text"],
            kind=CHOICE,
            choices=tuple(Choice(c["code"], c["label"]) for c in effect["choices"]),
            required=False,
            section=d["effect_section"],
        ),
    ]
    return tuple(items)


IMPAIRMENT_ITEMS: tuple[str, ...] = tuple(r["id"] for r in data()["impairment_items"])
ACTIVITY_ITEMS: tuple[str, ...] = tuple(r["id"] for r in data()["activity_items"])
GRADE_ITEMS = IMPAIRMENT_ITEMS + ACTIVITY_ITEMS

# Items the form records "at final assessment" only; a first-visit form hides them.
FINAL_VISIT_ITEMS: tuple[str, ...] = (
    data()["visits_item"]["id"],
    *(b["id"] for b in data()["betterback_items"]),
    *(g["id"] for g in data()["treatment_groups"]),
    *(g["other_id"] for g in data()["treatment_groups"] if g["other_id"]),
    data()["effect_item"]["id"],
)

# category code -> the ICD-10 codes printed in its row, for a form to show beside it.
CATEGORY_ICD10: dict[int, tuple[str, ...]] = {
    c["code"]: tuple(c["icd10"]) for c in data()["categories"]
}
ICD10_BY_CHOICE: dict[int, str] = {c["code"]: c["icd10"] for c in data()["icd10_codes"]}


def _mean_grade(answers: Answers, item_ids: tuple[str, ...]) -> tuple[float | None, int]:
    grades = [answers[i] for i in item_ids if answered(answers, i)]
    return (sum(grades) / len(grades) if grades else None), len(grades)


def score(answers: Answers) -> Scores:
    """Sum of the grades divided by the number of items graded, per section."""
    impairment, n_impairment = _mean_grade(answers, IMPAIRMENT_ITEMS)
    activity, n_activity = _mean_grade(answers, ACTIVITY_ITEMS)
    return {
        "impairment_score": impairment,
        "activity_score": activity,
        "impairment_items_graded": n_impairment,
        "activity_items_graded": n_activity,
    }


def first_visit_grades(answers: Answers) -> dict[str, int]:
    """The grades given at the first visit, by item id, for the final-visit form to
    show beside each item (items not graded are left out)."""
    return {i: answers[i] for i in GRADE_ITEMS if answered(answers, i)}


def icd10_matches_category(answers: Answers) -> list[str]:
    """Error messages where the chosen ICD-10 codes are not in the row of the chosen
    primary assessment category (the form: "codes in the same row"); [] when consistent."""
    chosen = answers.get("icd10") or []
    if not chosen:
        return []
    category = answers.get("category")
    if category is None:
        return ["ICD-10 codes are chosen but no primary assessment category."]
    if category not in CATEGORY_ICD10:
        return [f"Unknown primary assessment category {category!r}."]
    allowed = CATEGORY_ICD10[category]
    label = next(c["label"] for c in data()["categories"] if c["code"] == category)
    errors = []
    for choice in chosen:
        icd10 = ICD10_BY_CHOICE.get(choice)
        if icd10 is None:
            errors.append(f"Unknown ICD-10 choice {choice!r}.")
        elif icd10 not in allowed:
            errors.append(
                f"{icd10} is not a code of the category '{label}' "
                f"(its codes: {', '.join(allowed)})."
            )
    return errors


def treatment_kva_codes(answers: Answers) -> list[str]:
    """The distinct KVÅ codes of the treatments ticked, sorted (for comparison with
    the regional registry); boxes without a KVÅ code are left out."""
    codes = set()
    for group in data()["treatment_groups"]:
        ticked = answers.get(group["id"]) or []
        codes.update(o["kva"] for o in group["options"] if o["code"] in ticked and o["kva"])
    return sorted(codes)


_RULE = (
    "Sum of the grades (0-4) of the {what} items graded divided by the number of items "
    "graded; None when no item is graded (Abbott et al. 2018, BetterBack protocol, "
    "CRPE-tool)."
)

CRPE = register(
    Instrument(
        code="crpe",
        version=1,
        name="Clinical Reasoning and Process Evaluation tool (CRPE-tool)",
        respondent=CLINICIAN,
        items=_items(),
        scores=(
            ScoreDef(
                "impairment_score",
                "Functional impairment score",
                0,
                4,
                _RULE.format(what="functional impairment"),
            ),
            ScoreDef(
                "activity_score",
                "Activity limitation score",
                0,
                4,
                _RULE.format(what="activity limitation"),
            ),
            ScoreDef(
                "impairment_items_graded",
                "Number of functional impairment items graded",
                0,
                len(IMPAIRMENT_ITEMS),
                "Count of functional impairment items with a grade (Abbott et al. 2018).",
            ),
            ScoreDef(
                "activity_items_graded",
                "Number of activity limitation items graded",
                0,
                len(ACTIVITY_ITEMS),
                "Count of activity limitation items with a grade (Abbott et al. 2018).",
            ),
        ),
        score_fn=score,
        source=data()["source"],
    )
)
