"""What the demo's database holds after `manage.py demo`: run inside the demo's own
settings (``manage.py shell``) by the browser test, which has the demo running."""

from enrolment.models import Participant, Trial
from questionnaires.models import Response


def assert_full_flow(participants: int) -> None:
    """Every seed trial with participants, and their past follow-up as a running trial
    has it: what a coordinator and a statistician look at first is never empty."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from followup.models import Contact, Message

    trials = {t.code: t for t in Trial.objects.all()}
    assert set(trials) == {"betterback", "safe", "selfback", "impact-lbp"}
    assert all(t.participants.exists() for t in trials.values())
    finals = Response.objects.filter(entry=Response.FINAL, completed_at__isnull=False)
    for trial in trials.values():  # a baseline for everyone
        assert finals.filter(participant__trial=trial, timepoint__offset=0,
                             timepoint__anchor="enrolment").values("participant").distinct(
        ).count() == trial.participants.count(), trial.code  # fmt: skip
    bb = trials["betterback"]
    rates = (
        Contact.objects.filter(timepoint__trial=bb, participant__isnull=False)
        .values("timepoint__code")
        .annotate(
            done=Count("id", filter=Q(status="completed")),
            missed=Count("id", filter=Q(status="missed")),
        )  # fmt: skip
    )
    rate = {r["timepoint__code"]: r["done"] / (r["done"] + r["missed"]) for r in rates
            if r["done"] + r["missed"]}  # fmt: skip
    assert 0.6 <= rate["3m"] <= 0.95, rate
    # Reminders went out before some answers came in, on the moved clock.
    reminded = Contact.objects.filter(status="completed", reminders_sent__gt=0)
    assert reminded.exists()
    c = reminded.first()
    last_reminder = c.messages.filter(kind=Message.REMINDER).latest("created").created
    answered = finals.filter(participant=c.participant, physiotherapist=c.physiotherapist,
                             timepoint=c.timepoint).latest("completed_at").completed_at  # fmt: skip
    assert c.invited_at < last_reminder < answered <= timezone.now()
    # Paper forms entered twice and resolved; the CRPE-tool at the first and final visit;
    # physiotherapists' questionnaires before and after the workshop.
    assert Response.objects.filter(entry=Response.SECOND_ENTRY).exists()
    assert finals.filter(mode=Response.STAFF_PAPER).exclude(resolution={}).exists()
    crpe = finals.filter(participant__trial=bb, timepoint__respondent="clinician")
    assert set(crpe.values_list("timepoint__code", flat=True)) == {"crpe-first", "crpe-final"}
    physio = finals.filter(physiotherapist__clinic__cluster__trial=bb)
    assert {"pt-before", "pt-after"} <= set(physio.values_list("timepoint__code", flat=True))
    # ... recorded as a workshop: its attendance and diplomas.
    from implementation.models import Attendance

    assert Attendance.objects.filter(
        workshop__cluster__trial=bb, day2=True, diploma_on__isnull=False
    ).exists()
    assert bb.participants.filter(status=Participant.WITHDRAWN).count() == 1
    assert bb.participants.filter(status=Participant.DIED).count() == 1
    assert bb.participants.count() == participants + 1  # and the one no channel reaches
