"""The demo trials' past, replayed on a moved clock through the real code paths.

The clock jumps from one event to the next: whenever a contact is due, the real
dispatcher runs at that moment (invitations, reminders, windows closing as "missed");
when an invitation goes out, the respondent's behaviour is drawn (whether they answer,
after how many reminders, online or on paper); answers are saved and scored by the
questionnaires' services with the clock at the moment of answering, so completion
dates, days from baseline and the audit trail read as in a running trial. Nothing is
written around the apps: every row comes from the function a page or a task would call.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.contrib.auth import get_user_model
from django.db.models import Min

from enrolment.actions.status import mark_final_visit, record_death, withdraw_participant
from enrolment.models import Participant, Physiotherapist, Timepoint, Trial, TrialRole
from followup import dispatch
from followup.models import Contact
from followup.planning import complete_contact
from implementation import workshops
from questionnaires.instruments import for_trial
from questionnaires.models import Response
from questionnaires.services.double_entry import compare_entries, resolve_double_entry
from questionnaires.services.saving import correct_response, save_answers

from .answers import months_of, patient_burden, synthetic_answers

PAPER_SHARE = 0.1  # questionnaires returned on paper and entered twice
PHYSIO_RESPONSE = 0.85


def response_rate(months: float) -> float:
    """Everyone at baseline; about 80 % at 3 months, falling by 2 points a month."""
    return 1.0 if months <= 0 else max(0.35, 0.86 - 0.02 * months)


@dataclass(order=True)
class Event:
    at: datetime
    seq: int
    action: object = field(compare=False)
    trial: str = field(compare=False, default="")


@dataclass
class Replay:
    trials: list[Trial]
    now: datetime
    seed: int
    events: list[Event] = field(default_factory=list)
    counter: itertools.count = field(default_factory=itertools.count)
    burden: dict[int, float] = field(default_factory=dict)
    decided: set[int] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    per_condition: dict[str, int] = field(default_factory=dict)
    # One random stream per trial: a trial's demo data do not change with the others' sizes.
    rngs: dict[str, random.Random] = field(default_factory=dict)
    current: str = ""

    @property
    def rng(self) -> random.Random:
        if self.current not in self.rngs:
            self.rngs[self.current] = random.Random(f"{self.seed}:{self.current}")
        return self.rngs[self.current]

    def at(self, when: datetime, action) -> None:
        if when < self.now:
            heapq.heappush(self.events, Event(when, next(self.counter), action, self.current))

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    # --- the loop -----------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        contacts = Contact.objects.filter(timepoint__trial__in=self.trials, status__in=Contact.OPEN)
        while True:
            due = contacts.aggregate(t=Min("next_action_at"))["t"]
            event = self.events[0].at if self.events else None
            candidates = [t for t in (due, event) if t is not None and t < self.now]
            if not candidates:
                return self.counts
            when = min(candidates)
            with time_machine.travel(when, tick=False):
                if event is not None and event <= when:
                    popped = heapq.heappop(self.events)
                    self.current = popped.trial
                    popped.action()
                else:
                    dispatch.run(now=when)
                    self.count("dispatcher runs")
                    self._decide(when)

    # --- respondents' behaviour ---------------------------------------------------------

    def _decide(self, when: datetime) -> None:
        invited = (
            Contact.objects.filter(
                timepoint__trial__in=self.trials, status=Contact.INVITED, invited_at__lte=when
            )
            .exclude(pk__in=self.decided)
            .select_related("timepoint__trial", "participant", "physiotherapist__user")
        )
        for contact in invited:
            self.decided.add(contact.pk)
            # Physiotherapists draw from a stream of their own: how many take part
            # (--workshop-physios) leaves the patients' data as they are.
            physio = ":physio" if contact.physiotherapist_id else ""
            self.current = contact.timepoint.trial.code + physio
            months = months_of(contact.timepoint)
            if contact.physiotherapist_id:
                rate = PHYSIO_RESPONSE
            else:
                rate = response_rate(months)
            if self.rng.random() >= rate:
                continue  # never answers: reminders go out, then the window closes
            answer_at = self._answer_time(contact)
            if contact.participant_id and self.rng.random() < PAPER_SHARE:
                self.at(answer_at, lambda c=contact: self.paper_contact(c))
            else:
                self.at(answer_at, lambda c=contact: self.online(c))

    def _answer_time(self, contact: Contact) -> datetime:
        """Half answer the invitation; the rest after one, two or three reminders."""
        reminders = self.rng.choices([0, 1, 2, 3], weights=[50, 30, 15, 5])[0]
        days = dispatch.reminder_days()
        after = sum(days[:reminders]) + self.rng.uniform(0.1, 5)
        at = contact.invited_at + timedelta(days=after)
        return min(at, contact.closes_at - timedelta(hours=2))

    def _burden_of(self, timepoint, participant=None) -> float:
        if participant is None:
            # Physiotherapists' fear-avoidance beliefs ease after the workshop (its first
            # morning is before it).
            before = (timepoint.workshop_day or 1) == 1 and timepoint.offset <= 0
            return 0.6 if before else 0.4
        if participant.pk not in self.burden:
            # Mild, moderate and severe in turn within each condition: every STarT Back
            # risk group has people in both arms, as the plan's risk-group model needs.
            n = self.per_condition.get(participant.condition, 0)
            self.per_condition[participant.condition] = n + 1
            level = (0.3, 0.5, 0.7)[n % 3]
            self.burden[participant.pk] = level + self.rng.uniform(-0.07, 0.07)
        start = self.burden[participant.pk]
        intervention = participant.condition == "intervention"
        return patient_burden(start, months_of(timepoint), intervention, self.rng)

    def _save(self, timepoint, mode, burden, user=None, entry=Response.FINAL, **respondent):
        language = ""
        if respondent.get("participant") is not None:
            details = getattr(respondent["participant"], "personal_details", None)
            language = details.preferred_language if details else ""
        responses = []
        for code in timepoint.instruments:
            instrument = for_trial(timepoint.trial, code)
            responses.append(
                save_answers(
                    instrument=instrument,
                    timepoint=timepoint,
                    answers=synthetic_answers(instrument, burden, self.rng),
                    complete=True,
                    mode=mode,
                    user=user,
                    entry=entry,
                    language=language,
                    **respondent,
                )
            )
        return responses

    def _still_open(self, contact: Contact) -> bool:
        contact.refresh_from_db(fields=["status"])
        return contact.status in Contact.OPEN

    def online(self, contact: Contact) -> None:
        if self._still_open(contact):
            respondent = {
                "participant": contact.participant,
                "physiotherapist": contact.physiotherapist,
            }
            burden = self._burden_of(contact.timepoint, contact.participant)
            self._save(contact.timepoint, Response.PATIENT_ONLINE, burden, **respondent)
            complete_contact(contact)
            self.count("answered by link")

    def paper_contact(self, contact: Contact) -> None:
        if self._still_open(contact):
            self.paper(contact.timepoint, contact.participant)
            complete_contact(contact)

    def baseline(self, timepoint, participant: Participant, on_paper: bool) -> None:
        """At enrolment, on the clinic's tablet, or on a paper form entered later."""
        if on_paper:
            self.paper(timepoint, participant)
            return
        burden = self._burden_of(timepoint, participant)
        user = clinician_of(participant)
        self._save(timepoint, Response.STAFF_CLINIC, burden, user, participant=participant)
        self.count("baselines at the clinic")

    def paper(self, timepoint, participant: Participant) -> None:
        """Entered twice by different people; one form in three with a typing slip that
        the data manager resolves against the paper."""
        users = get_user_model().objects.filter(username__in=["datamanager", "coordinator"])
        first_user, second_user = sorted(users, key=lambda u: u.username != "datamanager")
        burden = self._burden_of(timepoint, participant)
        state = self.rng.getstate()
        firsts = self._save(
            timepoint, Response.STAFF_PAPER, burden, first_user, Response.FIRST_ENTRY,
            participant=participant,
        )  # fmt: skip
        self.rng.setstate(state)  # the same paper form, typed again
        seconds = self._save(
            timepoint, Response.STAFF_PAPER, burden, second_user, Response.SECOND_ENTRY,
            participant=participant,
        )  # fmt: skip
        if self.rng.random() < 1 / 3:
            slip = seconds[0]
            item = next(i for i in slip.definition().items if i.id in slip.answers)
            codes = item.allowed_codes()
            answers = dict(slip.answers)
            value = answers[item.id]
            wrong = codes[(codes.index(value) + 1) % len(codes)]
            answers[item.id] = [wrong] if isinstance(value, list) else wrong
            seconds[0] = correct_response(
                slip, answers, "demo: a typing slip in the second entry", second_user
            )
        for first, second in zip(firsts, seconds, strict=True):
            decisions = {
                d.item.id: (d.first, "checked against the paper form")
                for d in compare_entries(first, second)
            }
            resolve_double_entry(first, second, decisions, first_user)
        self.count("paper forms entered twice")


def clinician_of(participant: Participant):
    physio = Physiotherapist.objects.filter(clinic=participant.clinic).order_by("pk").first()
    return physio.user if physio else get_user_model().objects.get(username="coordinator")


def _local(day, trial: Trial, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(trial.time_zone))


def plan_baselines(replay: Replay, trial: Trial) -> None:
    """Everyone answers the baseline at enrolment (it is not sent by email): on the
    clinic's tablet, or one in ten on paper, entered twice a few days later."""
    baseline = Timepoint.objects.filter(
        trial=trial, respondent=Timepoint.PATIENT, anchor=Timepoint.ENROLMENT, offset=0
    ).first()
    if baseline is None:
        return
    for p in trial.participants.select_related("clinic", "personal_details"):
        if replay.rng.random() < PAPER_SHARE:
            at = _local(p.enrolled_on + timedelta(days=replay.rng.randint(2, 9)), trial, 14)
            replay.at(at, lambda p=p: replay.baseline(baseline, p, on_paper=True))
        else:
            at = _local(p.enrolled_on, trial, 9)
            replay.at(at, lambda p=p: replay.baseline(baseline, p, on_paper=False))


def plan_clinic_visits(replay: Replay, trial: Trial) -> None:
    """The CRPE-tool at the first visit (the day of enrolment) and at the final visit
    six to twelve weeks later, filled in by the clinic's physiotherapist."""
    clinician = list(
        Timepoint.objects.filter(trial=trial, respondent=Timepoint.CLINICIAN).order_by("order")
    )
    if len(clinician) < 2:
        return
    first, final = clinician[0], clinician[-1]
    for p in trial.participants.select_related("clinic"):
        user = clinician_of(p)

        def visit(p=p, tp=first, user=user, final_on=None):
            p.refresh_from_db()
            if p.status != Participant.ACTIVE:
                return
            if final_on is not None:
                mark_final_visit(p, final_on)
            burden = replay.rng.uniform(0.3, 0.7)
            for code in tp.instruments:
                instrument = for_trial(tp.trial, code)
                save_answers(
                    instrument=instrument,
                    timepoint=tp,
                    answers=synthetic_answers(instrument, burden, replay.rng),
                    complete=True,
                    mode=Response.STAFF_CLINIC,
                    user=user,
                    participant=p,
                )
            replay.count("CRPE-tool visits")

        replay.at(_local(p.enrolled_on, trial, 10), visit)
        final_on = p.enrolled_on + timedelta(days=replay.rng.randint(42, 84))
        replay.at(
            _local(final_on, trial, 10), lambda v=visit, d=final_on, tp=final: v(tp=tp, final_on=d)
        )


def plan_workshops(trial: Trial, per_clinic: int | None = None) -> int:
    """Each crossing cluster holds its two-day workshop two weeks before it crosses over,
    recorded as the coordinator records it (implementation.workshops): inviting the
    physiotherapists plans their own questionnaires (day 1 08:30, day 2 15:30, 3 and 12
    months after); all attend both days and get the diploma. Only clinics with
    participants take part, and at most ``per_clinic`` of each clinic's
    physiotherapists, so a small demo stays small."""
    if not Timepoint.objects.filter(trial=trial, anchor=Timepoint.WORKSHOP).exists():
        return 0
    coordinator = (
        TrialRole.objects.filter(trial=trial, role=TrialRole.COORDINATOR).order_by("pk").first()
    )
    if coordinator is None:
        return 0
    clinics = set(trial.participants.values_list("clinic_id", flat=True))
    physios = Physiotherapist.objects.filter(
        clinic_id__in=clinics, workshop_date__isnull=True, clinic__cluster__crossover__isnull=False
    ).select_related("clinic__cluster")
    invited, taken = {}, {}
    for physio in physios.order_by("pk"):
        taken[physio.clinic_id] = taken.get(physio.clinic_id, 0) + 1
        if per_clinic is not None and taken[physio.clinic_id] > per_clinic:
            continue
        invited.setdefault(physio.clinic.cluster, []).append(physio)
    n = 0
    for cluster, people in invited.items():
        day1 = cluster.crossover - timedelta(days=14)
        workshop = workshops.create_workshop(
            cluster,
            day1=day1,
            day2=day1 + timedelta(days=1),
            user=coordinator.user,
            facilitators="Two clinical researchers and the cluster's clinical champion",
            physiotherapists=people,
        )
        for attendance in workshop.attendances.all():
            workshops.record_attendance(
                attendance, day1=True, day2=True, diploma_on=workshop.day2, user=coordinator.user
            )
        n += len(people)
    return n


def plan_endings(replay: Replay, trial: Trial) -> None:
    """One withdrawal after the 3-month questionnaire and one death after 6 months."""
    people = list(trial.participants.order_by("enrolled_on", "pk")[:4])
    if len(people) < 4:
        return
    leaving, dying = people[1], people[3]
    on = leaving.enrolled_on + timedelta(days=120)
    replay.at(
        _local(on, trial, 11),
        lambda: withdraw_participant(
            Participant.objects.get(pk=leaving.pk),
            on,
            "demo: moved abroad and asked for no more questionnaires",
        ),
    )
    died = dying.enrolled_on + timedelta(days=200)
    replay.at(
        _local(died, trial, 11),
        lambda: record_death(
            Participant.objects.get(pk=dying.pk),
            died,
            "demo: a relative telephoned the clinic",
            today=died,
        ),
    )
