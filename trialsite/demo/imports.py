"""Synthetic files for the imports the demo trials declare (``[[imports]]``), made from
the declaration itself (columns, types, limits, per week or not) and imported through
analysis.imports.import_file, the page's own write path, as the data manager. So the
imports page, the analysis dataset's ``<import>_<column>`` columns and the priced
columns' costs have data. A declaration with a current import is left as it is: a
second build imports nothing."""

from __future__ import annotations

import random

from django.contrib.auth import get_user_model

from analysis import imports
from enrolment.models import Trial

DEMO_WEEKS = 8  # weekly imports: the first weeks only, enough to sum


def _value(rng: random.Random, column: dict) -> str:
    if not column.get("required", True) and rng.random() < 0.1:
        return ""
    kind = column["type"]
    if kind == "boolean":
        return str(int(rng.random() < 0.5))
    if kind == "date":
        return f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    low = column.get("min") or 0
    high = column.get("max") if column.get("max") is not None else low + 20
    # Counts are mostly small: an exponential draw from the lower limit, capped.
    value = min(high, low + rng.expovariate(1 / 3))
    return str(int(value)) if kind == "integer" else f"{value:.1f}"


def demo_file(trial: Trial, spec: dict, seed: int = 2017) -> bytes:
    rng = random.Random(f"{seed}:{trial.code}:{spec['code']}")
    weekly = spec["per"] == "participant_week"
    names = [c["name"] for c in spec["columns"]]
    lines = [",".join(["study_id", *(["week"] if weekly else []), *names])]
    weeks = range(1, min(DEMO_WEEKS, spec.get("max_week", 260)) + 1) if weekly else [None]
    for study_id in trial.participants.order_by("pk").values_list("study_id", flat=True):
        for week in weeks:
            values = [_value(rng, c) for c in spec["columns"]]
            lines.append(",".join([study_id, *([str(week)] if weekly else []), *values]))
    return ("\n".join(lines) + "\n").encode()


def import_declared(trials: list[Trial], seed: int = 2017) -> dict[str, int]:
    """``{"<trial> <import> rows imported": n}`` for each import made now."""
    user = get_user_model().objects.filter(username="datamanager").first()
    done = {}
    for trial in trials:
        if not trial.participants.exists():
            continue
        for spec in trial.imports or []:
            if imports.current(trial, spec["code"]) is not None:
                continue
            new = imports.import_file(
                trial,
                spec["code"],
                f"demo-{spec['code']}.csv",
                demo_file(trial, spec, seed),
                user,
                "demo (synthetic)",
            )
            done[f"{trial.code} {spec['code']} rows imported"] = new.rows
    return done
