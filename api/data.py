"""Plain functions from querysets to the API's JSON: what each role may see of a trial.

Nothing here returns personal details (PersonalDetails is never read), free-text
answers are left out for roles that may not see personal details (free text may carry
names, as in the exports), and a statistician of a blinded trial gets blinding codes
for the condition (:func:`trialsite.roles.blinded_for`, :func:`analysis.exports.blinding_codes`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache

from analysis import exports, missing_export
from enrolment import permissions as roles
from enrolment.audit import participant_history
from enrolment.models import Clinic, Participant, Trial
from followup.models import Contact
from questionnaires.instruments import base, for_trial, get
from questionnaires.models import Response

PARTICIPANT_FIELDS = (
    "id",
    "study_id",
    "clinic__code",
    "clinic__cluster__code",
    "enrolled_on",
    "status",
    "condition",
    "crossover_washout",
    "withdrawn_on",
    "died_on",
    "final_visit_on",
    "protocol_version__number",
)


class Viewer:
    """Who asks, in which trial: the answers to 'may they see ...' asked once per call."""

    def __init__(self, user, trial: Trial):
        self.user = user
        self.trial = trial
        self.blinded = roles.blinded_for(user, trial)
        self.free_text = roles.has_any(user, trial, roles.PERSONAL_DETAILS)
        self._conditions = None

    def participants(self):
        return Participant.objects.visible_to(self.user).filter(trial=self.trial)

    def condition(self, arm: str) -> str:
        if not self.blinded:
            return arm
        if self._conditions is None:
            self._conditions = exports.blinding_codes(self.trial)
        return self._conditions.get(arm, "")


# --- metadata ----------------------------------------------------------------------------


def _item(item: base.Item) -> dict:
    return {
        "id": item.id,
        "text": item.text,
        "kind": item.kind,
        "min": item.min,
        "max": item.max,
        "anchors": list(item.anchors) if item.anchors else None,
        "choices": [{"code": c.code, "label": c.label} for c in item.choices],
        "required": item.required,
        "section": item.section,
    }


def _score(s: base.ScoreDef) -> dict:
    return {
        "name": s.name,
        "label": s.label,
        "min": s.min,
        "max": s.max,
        "rule": s.rule,
        "labels": {str(k): v for k, v in s.labels.items()},
    }


def instrument(ins: base.Instrument) -> dict:
    return {
        "code": ins.code,
        "version": ins.version,
        "name": ins.name,
        "respondent": ins.respondent,
        "recall": ins.recall,
        "source": ins.source,
        "items": [_item(i) for i in ins.items],
        "scores": [_score(s) for s in ins.scores],
    }


def metadata(viewer: Viewer) -> dict:
    trial = viewer.trial
    tps = list(trial.timepoints.order_by("order"))
    codes = sorted({c for t in tps for c in t.instruments})
    clinics = Clinic.objects.filter(cluster__trial=trial).filter(roles.clinic_filter(viewer.user))
    return {
        "code": trial.code,
        "name": trial.name,
        "registration": trial.registration,
        "design": trial.design,
        "time_zone": trial.time_zone,
        "blinded": trial.blinded,
        "conditions_blinded_for_you": viewer.blinded,
        "arms": (
            [{"code": c, "label": f"Blinded arm {c}"}
             for c in sorted(exports.blinding_codes(trial).values())]
            if viewer.blinded
            else [{"code": a.code, "label": a.label} for a in trial.arms.all()]
        ),
        "clusters": [
            {
                "code": c.code,
                "name": c.name,
                "allocation_order": c.allocation_order,
                # The crossover dates tell a blinded reader which arm came first.
                "crossover": None if viewer.blinded or not c.crossover else c.crossover,
            }
            for c in trial.clusters.order_by("allocation_order")
        ],
        "clinics": [
            {"code": c.code, "name": c.name, "cluster": c.cluster.code}
            for c in clinics.select_related("cluster").order_by("cluster__allocation_order",
                                                                "code")
        ],
        "timepoints": [
            {
                "code": t.code,
                "label": t.label,
                "order": t.order,
                "respondent": t.respondent,
                "anchor": t.anchor,
                "offset": t.offset,
                "unit": t.unit,
                "window_before_days": t.window_before_days,
                "window_after_days": t.window_after_days,
                "instruments": list(t.instruments),
            }
            for t in tps
        ],
        # The versions the trial asks (its protocol file's pins), as its forms show them.
        "instruments": [instrument(for_trial(trial, c)) for c in codes],
    }


def dataset(trial: Trial, shape: str, level: str, blinded: bool) -> exports.Export:
    """The rows and columns of the CSV export of this shape and level, as the analysis
    page writes it: with the missing-data reasons beside the values they explain."""
    export = exports.build(trial, shape, level, blinded)
    return missing_export.with_reasons(export, trial, shape, level, "csv")


def codebook(viewer: Viewer, shape: str, level: str) -> list[dict]:
    """The codebook of the export of this shape and level, as the analysis pages write
    it (one builder: :func:`analysis.exports.codebook`)."""
    export = dataset(viewer.trial, shape, level, viewer.blinded)
    book = exports.codebook(export.vars)
    return book.where(book.notna(), None).to_dict(orient="records")


# --- participants --------------------------------------------------------------------------


def participant(row: dict, viewer: Viewer) -> dict:
    return {
        "study_id": row["study_id"],
        "clinic": row["clinic__code"],
        "cluster": row["clinic__cluster__code"],
        "enrolled_on": row["enrolled_on"],
        "status": row["status"],
        "condition": viewer.condition(row["condition"]),
        "crossover_washout": row["crossover_washout"],
        "withdrawn_on": row["withdrawn_on"],
        "died_on": row["died_on"],
        "final_visit_on": row["final_visit_on"],
        "protocol_version": row["protocol_version__number"],
    }


# --- responses ---------------------------------------------------------------------------

RESPONSE_FIELDS = (
    "id",
    "participant__study_id",
    "timepoint__code",
    "instrument",
    "version",
    "week",
    "mode",
    "answers",
    "missing",
    "scores",
    "started_at",
    "completed_at",
    "updated_at",
)


def responses(viewer: Viewer):
    """Final entries (never the two paper entries before resolution) of the participants
    the viewer may see."""
    return Response.objects.filter(
        participant__in=viewer.participants(), entry=Response.FINAL
    )


@cache
def _text_items(code: str, version: int) -> frozenset[str]:
    try:
        ins = get(code, version)
    except KeyError:
        return frozenset()
    return frozenset(i.id for i in ins.items if i.kind == base.TEXT)


def response(row: dict, viewer: Viewer, with_answers: bool = True) -> dict:
    out = {
        "id": row["id"],
        "participant": row["participant__study_id"],
        "timepoint": row["timepoint__code"],
        "instrument": row["instrument"],
        "version": row["version"],
        "week": row["week"],
        "mode": row["mode"],
        "scores": row["scores"],
        "started_at": row["started_at"],
        "completed_at": row["completed_at"],
        "updated_at": row["updated_at"],
    }
    if with_answers:
        answers = row["answers"] or {}
        if not viewer.free_text:
            hidden = _text_items(row["instrument"], row["version"])
            answers = {k: v for k, v in answers.items() if k not in hidden}
        out["answers"] = answers
        out["missing"] = row["missing"] or {}
    return out


# --- contacts ---------------------------------------------------------------------------

CONTACT_FIELDS = (
    "id",
    "participant__study_id",
    "timepoint__code",
    "due_on",
    "window_opens",
    "window_closes",
    "status",
    "invited_at",
    "reminders_sent",
    "completed_at",
    "closed_at",
    "close_reason",
)


def contacts(viewer: Viewer):
    return Contact.objects.filter(participant__in=viewer.participants())


def contact(row: dict) -> dict:
    out = {k.split("__")[0]: v for k, v in row.items()}
    out["participant"] = row["participant__study_id"]
    out["timepoint"] = row["timepoint__code"]
    return out


# --- audit trail ---------------------------------------------------------------------------

PERSONAL = "Personal details"


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


FREE_TEXT = {"answers", "resolution"}


def _shown(value, personal: bool, hide_text: bool):
    if personal:
        return None
    return _without_free_text(_plain(value)) if hide_text else _plain(value)


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _without_free_text(value):
    """Answers (and double-entry resolutions) with every text that is not a date hidden:
    in a history row the item's kind is not at hand, and free text may name the patient."""
    if isinstance(value, dict):
        return {k: _without_free_text(v) for k, v in value.items()}
    if isinstance(value, str) and not ISO_DATE.match(value):
        return "[free text]"
    return value


def audit_trail(p: Participant, viewer: Viewer) -> list[dict]:
    """The participant's audit trail as the history page shows it, except that changes
    to personal details say which fields changed and never their values, and free-text
    answers are hidden from roles that may not see personal details."""
    out = []
    for e in participant_history(p):
        personal = e.what == PERSONAL
        hide_text = not viewer.free_text and e.what.startswith("Response")
        out.append(
            {
                "when": e.when,
                "who": e.who,
                "what": e.what,
                "action": e.action,
                "reason": e.reason,
                "changes": [
                    {"field": f, "old": _shown(old, personal, hide_text and f in FREE_TEXT),
                     "new": _shown(new, personal, hide_text and f in FREE_TEXT)}
                    for f, old, new in e.changes
                ],
            }
        )
    return out
