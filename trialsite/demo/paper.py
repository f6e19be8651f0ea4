"""Demo: BetterBack's post tray with packs waiting to be printed and posted, and one
scanned return (a pack filled in and scanned, in software) waiting for the data manager's
verification. Built through the real paths: the pack printed by paper.printing, the scan
read by paper.scanning."""

from __future__ import annotations

import random
from datetime import datetime

from django.db import transaction

from enrolment.models import TrialRole
from followup.models import Contact, Message
from paper import printing, scanning, simulate
from paper.models import Pack

TRAY_SIZE = 4


def _post_message(contact: Contact, now: datetime, n: int) -> Message:
    return Message.objects.create(
        contact=contact,
        kind=Message.INVITATION,
        sequence=0,
        channel=Message.POST,
        template="post",
        idempotency_key=f"demo-post-{contact.pk}-{n}",
        language=printing.language_of(contact.participant),
        status=Message.SENT,
        created=now,
        sent_at=now,
    )


@transaction.atomic
def build_paper_demo(trial, now: datetime) -> dict[str, int]:
    """Idempotent: nothing is added where the trial has packs already."""
    if Pack.objects.filter(participant__trial=trial).exists():
        return {}
    manager = TrialRole.objects.filter(trial=trial, role=TrialRole.DATA_MANAGER).first()
    contacts = list(
        Contact.objects.filter(
            participant__trial=trial,
            participant__status="active",
            status__in=[Contact.SCHEDULED, Contact.INVITED],
        )
        .exclude(messages__channel=Message.POST)
        .select_related("participant__personal_details", "timepoint")
        .order_by("due_at", "pk")[: TRAY_SIZE + 1]
    )
    if manager is None or len(contacts) < 2:
        return {}
    tray = [_post_message(c, now, n) for n, c in enumerate(contacts[:-1])]
    returned = contacts[-1]
    message = _post_message(returned, now, len(tray))
    printed = printing.pack_for(returned.participant, returned.timepoint, message=message)
    printed.pack.posted_at = message.posted_at = now
    printed.pack.posted_by = message.posted_by = manager.user
    printed.pack._change_reason = "posted (demo)"
    printed.pack.save()
    message.save(update_fields=["posted_at", "posted_by"])
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
