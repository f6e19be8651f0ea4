"""Demo: BetterBack's post tray with packs waiting to be printed and posted, and one
scanned return (a pack of the tray filled in and scanned, in software) waiting for the
data manager's verification. Built through the real paths: the pack printed by
paper.printing, the scan read by paper.scanning."""

from __future__ import annotations

import random
from datetime import datetime

from django.db import transaction

from enrolment.models import TrialRole
from followup.models import Message
from paper import printing, scanning, simulate
from paper.models import Pack


@transaction.atomic
def build_paper_demo(trial, now: datetime) -> dict[str, int]:
    """One pack of the post tray (filled by the participants who chose post,
    :mod:`trialsite.demo.channels`) printed, posted and scanned back, waiting for the data
    manager's verification; the others stay on the "post today" list.
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
    message = tray[0]
    returned = message.contact
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
    return {"packs in the post tray": len(tray) - 1, "scanned pages waiting": batch.pages}
