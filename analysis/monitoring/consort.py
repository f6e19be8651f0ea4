"""The CONSORT flow as a pure function of screening and participant rows (plain dicts,
each standing for ``n`` alike records); :func:`.queries.consort_for` feeds it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from followup.schedule import offset_date

from .pure import _n

# --- CONSORT -------------------------------------------------------------------------


@dataclass
class ArmFlow:
    condition: str
    label: str
    allocated: int = 0
    # per timepoint code: responded / no response / awaiting (window still open) /
    # withdrawn before that timepoint was due
    responded: Counter = field(default_factory=Counter)
    no_response: Counter = field(default_factory=Counter)
    awaiting: Counter = field(default_factory=Counter)
    withdrawn_before: Counter = field(default_factory=Counter)
    died_before: Counter = field(default_factory=Counter)  # of withdrawn_before: by death
    # a timepoint an amendment added after its date had passed for them: never asked
    not_scheduled: Counter = field(default_factory=Counter)
    withdrawn_after_last: int = 0  # after every timepoint was due: still analysed if answered
    analysed: int = 0  # answered at the analysis timepoint
    lost: int = 0  # not withdrawn, the analysis timepoint's window closed unanswered
    pending: int = 0  # not withdrawn, the analysis timepoint's window still open
    unscheduled: int = 0  # not withdrawn, never asked the analysis timepoint (an amendment)

    @property
    def withdrawn(self) -> int:
        return sum(self.withdrawn_before.values())

    @property
    def adds_up(self) -> bool:
        return (
            self.withdrawn + self.analysed + self.lost + self.pending + self.unscheduled
            == self.allocated
        )


RESPONDED, NO_RESPONSE, AWAITING, WITHDRAWN, NOT_SCHEDULED = (
    "responded",
    "no_response",
    "awaiting",
    "withdrawn_before",
    "not_scheduled",
)


def placement(p: Mapping, timepoints: list[Mapping], today: date) -> dict[str, str]:
    """The box of one participant at each follow-up timepoint until a withdrawal.

    Withdrawn counts at the first timepoint due after the withdrawal date and ends the
    flow; a timepoint an amendment added is not scheduled for a participant whose date
    for it came before it was planned (``planned_from``); otherwise responded (a
    completed final response), awaiting (window still open) or no response (the window
    closed unanswered).
    """
    boxes = {}
    responded = set(p.get("responded") or ())
    for t in timepoints:
        due = offset_date(p["enrolled_on"], t.get("offset", 0), t.get("unit", "months"))
        if p.get("withdrawn_on") and p["withdrawn_on"] < due:
            boxes[t["code"]] = WITHDRAWN
            break
        closes = due + timedelta(days=t.get("window_after_days", 0))
        if t.get("planned_from") and due < t["planned_from"] and t["code"] not in responded:
            boxes[t["code"]] = NOT_SCHEDULED
        elif t["code"] in responded:
            boxes[t["code"]] = RESPONDED
        elif closes < today:
            boxes[t["code"]] = NO_RESPONSE
        else:
            boxes[t["code"]] = AWAITING
    return boxes


@dataclass
class ConsortFlow:
    assessed: int = 0
    excluded: int = 0
    excluded_by_reason: Counter = field(default_factory=Counter)
    declined: int = 0
    awaiting_consent: int = 0
    enrolled: int = 0
    unscreened: int = 0  # enrolled without a screening-log entry (counted in assessed)
    timepoints: list[dict] = field(default_factory=list)  # code, label
    analysis_timepoint: str = ""
    arms: list[ArmFlow] = field(default_factory=list)

    @property
    def allocated(self) -> int:
        return sum(a.allocated for a in self.arms)

    @property
    def adds_up(self) -> bool:
        """Every screened patient lands in exactly one final box."""
        top = self.excluded + self.declined + self.awaiting_consent + self.enrolled
        return (
            top == self.assessed
            and self.allocated == self.enrolled
            and all(a.adds_up for a in self.arms)
        )


def consort_flow(
    screenings: Iterable[Mapping],
    participants: Iterable[Mapping],
    timepoints: list[Mapping],
    arms: list[tuple[str, str]],
    today: date,
    analysis_timepoint: str | None = None,
) -> ConsortFlow:
    """The CONSORT flow from the screening log and the follow-up.

    ``screenings``: dicts with ``outcome``, ``unmet_criteria`` and ``n`` (a group row).
    ``participants``: dicts with ``condition``, ``enrolled_on``, ``withdrawn_on``,
    ``screened`` (has a screening-log entry), ``responded`` (timepoint codes with a
    completed final response) and ``n`` (a group row: participants alike in all these).
    ``timepoints``: follow-up timepoints anchored on enrolment, in order, dicts with
    code, label, offset, unit, window_after_days.
    A withdrawn participant counts at the first timepoint due after the withdrawal; a
    participant who died counts there too (``withdrawn_on`` is the earlier of the two
    dates, ``died`` says which), and also in ``died_before``.
    """
    flow = ConsortFlow(timepoints=[{"code": t["code"], "label": t["label"]} for t in timepoints])
    for row in screenings:
        n = _n(row)
        flow.assessed += n
        outcome = row["outcome"]
        if outcome == "ineligible":
            flow.excluded += n
            for reason in row.get("unmet_criteria") or ["unspecified"]:
                flow.excluded_by_reason[reason] += n
        elif outcome == "declined":
            flow.declined += n
        elif outcome == "eligible":
            flow.awaiting_consent += n
        elif outcome == "enrolled":
            flow.enrolled += n
        else:
            raise ValueError(f"unknown screening outcome {outcome!r}")
    arm_by_code = {code: ArmFlow(code, label) for code, label in arms}
    flow.arms = list(arm_by_code.values())
    codes = [t["code"] for t in timepoints]
    flow.analysis_timepoint = analysis_timepoint or (codes[-1] if codes else "")
    for p in participants:
        n = _n(p)
        if not p.get("screened", True):
            flow.unscreened += n
            flow.assessed += n
            flow.enrolled += n
        arm = arm_by_code.get(p["condition"])
        if arm is None:
            arm = arm_by_code[p["condition"]] = ArmFlow(p["condition"], p["condition"])
            flow.arms.append(arm)
        arm.allocated += n
        boxes = placement(p, timepoints, today)
        for code, box in boxes.items():
            getattr(arm, WITHDRAWN if box == WITHDRAWN else box)[code] += n
        if p.get("withdrawn_on") and WITHDRAWN not in boxes.values():
            arm.withdrawn_after_last += n
        if p.get("died"):
            for code, box in boxes.items():
                if box == WITHDRAWN:
                    arm.died_before[code] += n
        final = boxes.get(flow.analysis_timepoint)
        if final == RESPONDED:
            arm.analysed += n
        elif final == NO_RESPONSE:
            arm.lost += n
        elif final == AWAITING:
            arm.pending += n
        elif final == NOT_SCHEDULED:
            arm.unscheduled += n
    return flow


def left_on(withdrawn_on: date | None, died_on: date | None) -> date | None:
    """When follow-up ended early: the earlier of withdrawal and death."""
    return min((d for d in (withdrawn_on, died_on) if d is not None), default=None)
