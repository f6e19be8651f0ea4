"""Scores of a response: the keyword options an instrument's scoring takes (the trial's
EQ-5D value set), the scores computed from the answers, and :func:`rescore`, which
recomputes every stored score with the definition version it was answered on (locked
data keeps its scores and the report says why).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from enrolment import guards

from ..instruments import base
from ..models import Response
from .answers import ResponseError

# --- scoring -------------------------------------------------------------------------


def score_options(instrument: base.Instrument, trial=None, value_set: str | None = None) -> dict:
    """Keyword options for ``instrument.score``: the EQ-5D value set of the trial (or the
    one asked for), checked against the sets the definition offers."""
    if "value_set" not in instrument.options:
        if value_set:
            raise ResponseError(f"{instrument.code} has no value sets.")
        return {}
    available = tuple(instrument.options["value_set"])
    chosen = (
        value_set
        or (trial.eq5d_value_set if trial is not None else "")
        or instrument.options.get("default_value_set")
    )
    if chosen not in available:
        raise ResponseError(
            f"{instrument.code}: unknown value set {chosen!r}; available: {', '.join(available)}"
        )
    return {"value_set": chosen}


def compute_scores(instrument: base.Instrument, answers: dict, trial=None) -> dict:
    return instrument.score(answers, **score_options(instrument, trial))


# --- rescoring -------------------------------------------------------------------------


@dataclass
class ScoreChange:
    response: Response
    score: str
    old: object
    new: object
    refused: str = ""  # why the change was not saved (locked data)


def rescore(dry_run: bool = False) -> list[ScoreChange]:
    """Recompute every stored score with the definition version it was answered on."""
    changes: list[ScoreChange] = []
    rows = Response.objects.select_related(
        "participant", "physiotherapist", "timepoint__trial"
    ).order_by("pk")
    for response in rows:
        instrument = response.definition()
        new = compute_scores(instrument, response.answers, response.timepoint.trial)
        old = response.scores or {}
        changed = [
            ScoreChange(response, name, old.get(name), new.get(name))
            for name in sorted(set(old) | set(new))
            if old.get(name) != new.get(name)
        ]
        if not changed:
            continue
        if not dry_run:
            try:
                with transaction.atomic():
                    response.scores = new
                    response._change_reason = "rescore"
                    response.save(update_fields=["scores"])
            except guards.WriteRefused as exc:
                # Locked data keeps its scores; the report says so and why.
                for c in changed:
                    c.refused = " ".join(exc.messages)
        changes.extend(changed)
    return changes
