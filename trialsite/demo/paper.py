"""Demo: BetterBack's post tray with packs waiting to be printed and posted, and one
scanned return (a pack of the tray filled in and scanned, in software) waiting for the
data manager's verification. Built through the real paths: the pack printed by
paper.printing, the scan read by paper.scanning."""

from __future__ import annotations

import random
from datetime import datetime

from django.db import transaction

from enrolment.consent.reading import held_ids
from enrolment.models import TrialRole
from followup.models import Contact, Message
from paper import printing, scanning, simulate
from paper.models import Pack


@transaction.atomic
def build_paper_demo(trial, now: datetime) -> dict[str, int]:
    """One pack (of the post tray, filled by the participants who chose post,
    :mod:`trialsite.demo.channels`, or printed by hand) printed, posted and scanned back,
    waiting for the data manager's verification; the tray's packs stay on the "post
    today" list.
    Idempotent: nothing is added where the trial has packs already."""
    if Pack.objects.filter(participant__trial=trial).exists():
        return {}
    manager = TrialRole.objects.filter(trial=trial, role=TrialRole.DATA_MANAGER).first()
    tray = list(
        Message.objects.filter(
            contact__participant__trial=trial,
            channel=Message.POST,
            status=Message.SENT,
            posted_at__isnull=True,
        )
        .select_related("contact__participant__personal_details", "contact__timepoint")
        .order_by("-contact__reminders_sent", "pk")
    )
    if manager is None or not tray:
        return {}
    returned, message = _to_scan_back(trial, tray)
    printed = printing.pack_for(
        returned.participant, returned.timepoint, user=manager.user, message=message
    )
    printed.pack.posted_at = now
    printed.pack.posted_by = manager.user
    printed.pack._change_reason = "posted (demo)"
    printed.pack.save()
    if message is not None:
        message.posted_at, message.posted_by = now, manager.user
        message.save(update_fields=["posted_at", "posted_by"])
        tray.remove(message)
    rng = random.Random(2017)
    layout = printed.pack.layout
    answers = simulate.random_answers(layout, rng)
    first_choice = next(key for key in answers if key[0] == "odi")
    answers[first_choice] = [0, 2]  # two ticks: the data manager decides from the scan
    pages = simulate.printed_pages(printing.render([printed]), 150)
    simulate.fill(pages, layout, answers, 150, rng=rng)
    scan = [simulate.scanner(p, rng, dpi_in=150, dpi_out=100) for p in pages]
    batch = scanning.read_upload(trial, manager.user, simulate.as_pdf(scan))
    return {"packs in the post tray": len(tray), "scanned pages waiting": batch.pages}


def _to_scan_back(trial, tray: list[Message]) -> tuple[Contact, Message | None]:
    """The questionnaire whose pack comes back scanned: the tray's first while others
    stay on the "post today" list; else a pack printed by hand for another open
    questionnaire with nothing waiting to be sent (a patient who asked for paper by
    phone), or one that came back after its window closed. Which questionnaires are open
    on the day the demo is built varies: the demo must not empty its own tray, nor answer
    the questionnaire whose SMS waits in the outbox for the morning."""
    if len(tray) > 1:
        return tray[0].contact, tray[0]
    candidates = (
        Contact.objects.filter(participant__trial=trial)
        .exclude(pk__in=[m.contact_id for m in tray])
        .exclude(participant__personal_details__postal_address="")
        .select_related("participant__personal_details", "timepoint")
    )
    open_ = candidates.filter(status=Contact.INVITED).exclude(messages__status=Message.PENDING)
    late = candidates.filter(status=Contact.MISSED).order_by("-closed_at", "-pk")
    for contacts in (open_.order_by("-reminders_sent", "pk"), late[:20]):
        contacts = list(contacts)
        held = held_ids(c.participant for c in contacts)
        found = next((c for c in contacts if c.participant_id not in held), None)
        if found is not None:
            return found, None
    return tray[0].contact, tray[0]
