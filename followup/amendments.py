"""What a protocol amendment does to the contact schedule (receiver of
``enrolment.amendments.protocol_amended``).

Only contacts not yet due are touched: a contact still scheduled whose invitation time
is after ``now``. For active participants (and active physiotherapists with a workshop
date) it is

* cancelled, with the amendment as reason, when its timepoint left the protocol;
* re-planned from its anchor date when its timepoint's offset or window changed;
* carried over to the new version when nothing about it changed;

and a contact is planned for each timepoint a respondent has none of (one the
amendment added), unless its invitation time has already passed. Contacts already
sent, answered, missed or cancelled keep the version they were planned under.

The plan is computed from the stored contacts and the new file's timepoints only, never
from the timepoint rows (which the load has already rewritten when it applies), so the
dry run counts exactly what the load then does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_noop
from simple_history.utils import bulk_create_with_history

from enrolment.models import Participant, Physiotherapist, ProtocolVersion, Timepoint
from implementation.workshops import workshop_days

from .bulk import bulk_set
from .models import Contact, SmsPrompt
from .planning import _TIMING_FIELDS, _timing, close_contacts, send_time
from .schedule import first_day_still_planned, planned_contacts

CANCELLED, REPLANNED, CARRIED, PLANNED = "cancelled", "re-planned", "carried over", "planned"


@dataclass
class Step:
    change: str
    action: str
    contacts: list = field(default_factory=list)  # Contact (existing) or (respondent, planned)
    participants: set = field(default_factory=set)
    physiotherapists: set = field(default_factory=set)
    skipped: int = 0

    def consequence(self) -> dict:
        out = {
            "change": self.change,
            "action": self.action,
            "contacts": len(self.contacts),
            "participants": len(self.participants),
            "physiotherapists": len(self.physiotherapists),
        }
        if self.skipped:
            out["note"] = f"{self.skipped} not planned: their date has passed"
        return out


def instruments_for(contact: Contact, cache: dict | None = None) -> list[str]:
    """The instruments a contact asks: its protocol version's list for its timepoint (an
    invitation sent before an amendment keeps it; re-planned contacts carry the new
    version), or the timepoint's own list for a contact planned before versions existed.
    ``cache`` (version id -> lists) saves a query per contact in a loop."""
    since = contact.timepoint.instruments_since_id
    if contact.protocol_version_id is None or since is None or contact.protocol_version_id >= since:
        return list(contact.timepoint.instruments)  # its version asks the current list
    cache = {} if cache is None else cache
    lists = cache.get(contact.protocol_version_id)
    if lists is None:
        spec = ProtocolVersion.objects.values_list("spec", flat=True).get(
            pk=contact.protocol_version_id
        )
        lists = {t["code"]: t["instruments"] for t in spec.get("timepoints", [])}
        cache[contact.protocol_version_id] = lists
    return list(lists.get(contact.timepoint.code, contact.timepoint.instruments))


def _plannable(tp: dict, respondent: str) -> bool:
    if respondent == Timepoint.PATIENT:
        return (
            tp["respondent"] == Timepoint.PATIENT
            and tp["anchor"] == Timepoint.ENROLMENT
            and tp.get("offset", 0) != 0  # the baseline is answered at enrolment itself
        )
    return tp["respondent"] == Timepoint.PHYSIOTHERAPIST and tp["anchor"] == Timepoint.WORKSHOP


def _send_at(tp: dict) -> time:
    at = tp.get("at")
    return time.fromisoformat(at) if isinstance(at, str) else at or send_time()


def _planned(tp: dict, anchor_date, time_zone: str):
    # The schedule plans from one anchor date: the workshop day plays enrolment for physios.
    return planned_contacts(
        baseline=anchor_date,
        timepoints=[{**tp, "anchor": Timepoint.ENROLMENT}],
        time_zone=time_zone,
        send_at=_send_at(tp),
        include_baseline=tp["respondent"] != Timepoint.PATIENT,
    )[0]


def _anchor(tp: dict, kind: str, who, anchor_date):
    if kind == Timepoint.PATIENT:
        return anchor_date
    return workshop_days(who).get(tp.get("workshop_day") or 1, anchor_date)


def plan(trial, timepoints: list[dict], now: datetime) -> list[Step]:
    steps: dict[tuple[str, str], Step] = {}

    def step(change: str, action: str) -> Step:
        return steps.setdefault((change, action), Step(change, action))

    participants = list(Participant.objects.filter(trial=trial, status=Participant.ACTIVE))
    physios = list(
        Physiotherapist.objects.filter(
            clinic__cluster__trial=trial, active=True, workshop_date__isnull=False
        )
    )
    respondents = [(Timepoint.PATIENT, p, p.enrolled_on) for p in participants] + [
        (Timepoint.PHYSIOTHERAPIST, ph, ph.workshop_date) for ph in physios
    ]
    by_respondent: dict[tuple, list[Contact]] = {}
    for c in Contact.objects.filter(timepoint__trial=trial).select_related("timepoint"):
        key = ("p", c.participant_id) if c.participant_id else ("ph", c.physiotherapist_id)
        by_respondent.setdefault(key, []).append(c)
    for kind, who, anchor_date in respondents:
        key = ("p", who.pk) if kind == Timepoint.PATIENT else ("ph", who.pk)
        wanted = {t["code"]: t for t in timepoints if _plannable(t, kind)}
        had = by_respondent.get(key, [])
        for c in had:
            if c.status != Contact.SCHEDULED or c.due_at <= now:
                continue  # sent, answered, missed, cancelled or due: keeps its version
            code = c.timepoint.code
            if code not in wanted:
                s = step(f"timepoints {code}: removed", CANCELLED)
            else:
                p = _planned(wanted[code], c.anchor_date, trial.time_zone)
                same = (p.due, p.window_opens, p.window_closes, p.due_at) == (
                    c.due_on,
                    c.window_opens,
                    c.window_closes,
                    c.due_at,
                )
                if same:
                    s = step("timepoints unchanged", CARRIED)
                else:
                    s = step(f"timepoints {code}: due date or window changed", REPLANNED)
                    c._replanned = p
            s.contacts.append(c)
            _count(s, kind, who)
        held = {c.timepoint.code for c in had}
        for code, tp in wanted.items():
            if code in held:
                continue
            s = step(f"timepoints {code}: added", PLANNED)
            anchor = _anchor(tp, kind, who, anchor_date)
            p = _planned(tp, anchor, trial.time_zone)
            if p.due < first_day_still_planned(now, _send_at(tp), trial.time_zone):
                s.skipped += 1
                continue
            s.contacts.append((kind, who, anchor, p))
            _count(s, kind, who)
    order = {PLANNED: 0, REPLANNED: 1, CANCELLED: 2, CARRIED: 3}
    return sorted(steps.values(), key=lambda s: (order[s.action], s.change))


def _count(s: Step, kind: str, who) -> None:
    (s.participants if kind == Timepoint.PATIENT else s.physiotherapists).add(who.pk)


def carry_out(trial, steps: list[Step], version, reason: str, now: datetime) -> None:
    zone = ZoneInfo(trial.time_zone)
    rows = {t.code: t for t in Timepoint.objects.filter(trial=trial, removed_in=None)}
    why = f"protocol version {version.number} ({reason})"[:100]
    for s in steps:
        if s.action == CANCELLED:
            code = s.change.split()[1].rstrip(":")
            close_contacts(s.contacts, Contact.CANCELLED, f"{why}: {code} removed", now)
        elif s.action in (REPLANNED, CARRIED):
            for c in s.contacts:
                c.protocol_version = version
                if s.action == REPLANNED:
                    for name, value in _timing(c._replanned, zone).items():
                        setattr(c, name, value)
                    c.next_action_at = c.due_at
            fields = ["protocol_version", "next_action_at", *_TIMING_FIELDS]
            bulk_set(Contact, s.contacts, fields)
            Contact.history.bulk_history_create(
                s.contacts, update=True, default_change_reason=why, default_date=now
            )
        elif s.action == PLANNED:
            new = []
            for kind, who, anchor_date, p in s.contacts:
                role = "participant" if kind == Timepoint.PATIENT else "physiotherapist"
                respondent = {role: who}
                new.append(
                    Contact(
                        timepoint=rows[p.timepoint],
                        anchor_date=anchor_date,
                        next_action_at=p.due_at,
                        protocol_version=version,
                        **respondent,
                        **_timing(p, zone),
                    )
                )
            bulk_create_with_history(new, Contact, default_change_reason=why)


def instrument_changes(trial, timepoints: list[dict], previous_spec: dict | None, now) -> list:
    """Contacts not yet due are asked the new list (they carry the new version); the
    invitations already sent keep theirs (:func:`instruments_for`)."""
    before = {t["code"]: t["instruments"] for t in (previous_spec or {}).get("timepoints", [])}
    out = []
    for tp in timepoints:
        old = before.get(tp["code"])
        if old is None or old == tp["instruments"]:
            continue
        plus = [f"+{i}" for i in tp["instruments"] if i not in old]
        minus = [f"-{i}" for i in old if i not in tp["instruments"]]
        contacts = Contact.objects.filter(
            timepoint__trial=trial,
            timepoint__code=tp["code"],
            status=Contact.SCHEDULED,
            due_at__gt=now,
        ).exclude(
            participant__status__in=[Participant.WITHDRAWN, Participant.DIED, Participant.COMPLETED]
        )
        sent = Contact.objects.filter(
            timepoint__trial=trial, timepoint__code=tp["code"], status=Contact.INVITED
        ).count()
        out.append(
            {
                "change": f"timepoints {tp['code']}: instruments {' '.join(plus + minus)}",
                "action": "asked the new list",
                "contacts": contacts.count(),
                "participants": contacts.exclude(participant=None)
                .values("participant")
                .distinct()
                .count(),
                "physiotherapists": contacts.exclude(physiotherapist=None)
                .values("physiotherapist")
                .distinct()
                .count(),
                "note": f"{sent} invitation(s) already sent keep the list they were sent with",
            }
        )
    return out


def sms_changes(trial, previous_spec: dict | None, new_spec: dict) -> list:
    old, new = (previous_spec or {}).get("sms"), new_spec.get("sms")
    if previous_spec is None or old == new:
        return []
    planned = SmsPrompt.objects.filter(participant__trial=trial, status=SmsPrompt.SCHEDULED)
    return [
        {
            "change": "sms: schedule or questions changed",
            "action": "kept as planned",
            "contacts": planned.count(),
            "participants": planned.values("participant").distinct().count(),
            "note": gettext_noop(
                "weekly SMS questions already planned keep their times; participants "
                "enrolled from this version on get the new schedule"
            ),
        }
    ]


def on_protocol_amended(
    sender,
    trial,
    number,
    version,
    timepoints,
    reason,
    now,
    apply: bool = False,
    previous_spec=None,
    new_spec=None,
    **kwargs,
) -> list[dict]:
    steps = plan(trial, timepoints, now)
    # Counted before anything is written: the dry run and the load read the same rows.
    extra = instrument_changes(trial, timepoints, previous_spec, now) + sms_changes(
        trial, previous_spec, new_spec or {}
    )
    if apply:
        carry_out(trial, steps, version, reason, now)
    return [s.consequence() for s in steps] + extra
