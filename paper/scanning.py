"""Scanned returns: an upload read page by page into paper entries, and the data
manager's verification that turns an entry into a response of the double data entry.

One write path each: :func:`read_upload` creates a batch with its pages and entries;
:func:`verify_entry` creates the response (through
:func:`questionnaires.services.saving.save_answers`, audited with a reason) and marks the
entry verified (audited in its history).
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrolment import permissions as roles
from followup.models import Contact
from followup.planning import close_contacts
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.answers import ResponseError
from questionnaires.services.double_entry import next_entry_for
from questionnaires.services.saving import save_answers

from . import images, omr, reading
from .models import Pack, PaperEntry, ScanBatch, ScanPage
from .printing import parse_qr
from .settings import paper_settings

# Who uploads scans and verifies what was read from them.
SCAN_ROLES = roles.SCAN


def may_scan(user, trial) -> bool:
    return roles.has_any(user, trial, SCAN_ROLES)


def batches_visible_to(user, trial):
    if not may_scan(user, trial):
        return ScanBatch.objects.none()
    return ScanBatch.objects.filter(trial=trial)


def entries_visible_to(user, trial):
    if not may_scan(user, trial):
        return PaperEntry.objects.none()
    return PaperEntry.objects.filter(batch__trial=trial)


def _match(trial, qr_text: str) -> tuple[Pack | None, int | None, str]:
    """The pack and page a QR code names, or why it matches none."""
    fields = parse_qr(qr_text)
    if fields is None:
        return None, None, _("The QR code is not one of this site's questionnaire packs.")
    pack = (
        Pack.objects.select_related("participant", "timepoint")
        .filter(pk=fields["pack"], participant__trial=trial)
        .first()
    )
    if pack is None or pack.participant.study_id != fields["study_id"]:
        return (
            None,
            None,
            _("No printed pack of this trial has this QR code (%(code)s).")
            % {"code": fields["study_id"]},
        )
    if pack.timepoint.code != fields["timepoint"] or not 1 <= fields["page"] <= pack.page_count:
        return None, None, _("The QR code does not fit the printed pack.")
    return pack, fields["page"], ""


def _read_one(trial, batch: ScanBatch, number: int, image) -> tuple[ScanPage, Pack | None]:
    page = ScanPage(batch=batch, number=number, image=images.png(image), status=ScanPage.UNMATCHED)
    try:
        grey = omr.to_grey(image)
        text, centre = omr.find_qr(grey)
        page.qr_text = text[:200]
        pack, pack_page, problem = _match(trial, text)
        if pack is None:
            page.problem = problem
            page.save()
            return page, None
        aligned = omr.aligned_page(grey, centre)
    except omr.PageError as exc:
        page.problem = str(exc)
        page.save()
        return page, None
    page.status, page.pack, page.pack_page = ScanPage.MATCHED, pack, pack_page
    page.aligned = images.png(aligned)
    page.marks = omr.box_darkness(aligned, pack.layout["pages"][pack_page - 1]["boxes"])
    page.save()
    return page, pack


@transaction.atomic
def read_upload(trial, user, data: bytes) -> ScanBatch:
    """Every page of an uploaded scan, matched and read; a paper entry per instrument of
    every pack found. Pages that match no participant are kept and listed."""
    if not may_scan(user, trial):
        raise ValidationError(_("Only data managers upload scanned questionnaires."))
    pages = images.pages_of(data)
    if not pages:
        raise images.UploadError(_("The upload has no pages."))
    batch = ScanBatch.objects.create(
        trial=trial, uploaded_by=user, sha256=hashlib.sha256(data).hexdigest(), pages=len(pages)
    )
    found: dict[int, tuple[Pack, dict[int, list[float]]]] = {}
    for number, image in enumerate(pages, start=1):
        page, pack = _read_one(trial, batch, number, image)
        if pack is not None:
            found.setdefault(pack.pk, (pack, {}))[1][page.pack_page] = page.marks
    for pack, darkness in found.values():
        _returned(pack, batch)
        for r in reading.read_pack(pack.layout, pack.versions, darkness):
            if all(flag == omr.NO_PAGE for flag in r.flags.values()) and not r.answers:
                continue  # none of this instrument's pages came back in this upload
            earlier = PaperEntry.objects.filter(pack=pack, instrument=r.code)
            if earlier.filter(status=PaperEntry.VERIFIED).exists():
                continue  # verified from an earlier scan: a rescan changes nothing
            for stale in earlier:  # a rescan replaces a reading nobody verified yet
                stale._change_reason = f"replaced by the scan of upload {batch.pk}"
                stale.delete()
            PaperEntry.objects.create(
                batch=batch,
                pack=pack,
                participant=pack.participant,
                timepoint=pack.timepoint,
                instrument=r.code,
                version=r.version,
                answers=r.answers,
                flags=r.flags,
            )
    return batch


def _returned(pack: Pack, batch: ScanBatch) -> None:
    """A pack came back: its contact is answered (on paper), so no reminder goes out for
    it any more, by post or otherwise."""
    contacts = Contact.objects.select_for_update().filter(
        participant=pack.participant, timepoint=pack.timepoint, status__in=Contact.OPEN
    )
    close_contacts(
        list(contacts),
        Contact.COMPLETED,
        f"paper pack returned (scan upload {batch.pk})",
        timezone.now(),
    )


def pages_of_entry(entry: PaperEntry):
    """The scanned pages on which the entry's instrument was printed."""
    numbers = {
        p["number"]
        for p in entry.pack.layout["pages"]
        if any(b["i"] == entry.instrument for b in p["boxes"] + p["writes"])
    }
    return ScanPage.objects.filter(batch=entry.batch, pack=entry.pack, pack_page__in=numbers)


@transaction.atomic
def verify_entry(entry: PaperEntry, answers: dict, user, missing: dict | None = None) -> Response:
    """The data manager's checked answers (and the reasons for items left missing) become a
    paper entry response: the first entry of the double data entry, or the final response
    where the trial's protocol says scan and verification replace double entry. An item
    the scan flagged needs a value or a reason: left blank, it would pass into the data
    unnoticed (and a second entry left blank too would agree with it)."""
    entry = (
        PaperEntry.objects.select_for_update().select_related("pack", "timepoint").get(pk=entry.pk)
    )
    if entry.status == PaperEntry.VERIFIED:
        raise ResponseError(_("This paper entry has been verified already."))
    if not may_scan(user, entry.timepoint.trial):
        raise ValidationError(_("Only data managers verify scanned questionnaires."))
    instrument = get(entry.instrument, entry.version)
    missing = missing or {}
    unsettled = [
        item for item in (entry.flags or {})
        if answers.get(item) in (None, "", []) and item not in missing
    ]
    if unsettled:
        raise ResponseError(
            _("Give each flagged item a value or the reason it is missing: %(items)s.")
            % {"items": ", ".join(unsettled)}
        )
    existing = None
    if paper_settings(entry.timepoint.trial).scan_replaces_double_entry:
        number = Response.FINAL
        if Response.objects.filter(
            participant=entry.participant,
            timepoint=entry.timepoint,
            instrument=entry.instrument,
            entry=Response.FINAL,
        ).exists():
            raise ResponseError(_("A final response of this form exists already."))
    else:
        number, existing = next_entry_for(
            entry.participant, entry.timepoint, entry.instrument, user
        )
    response = save_answers(
        instrument=instrument,
        timepoint=entry.timepoint,
        answers=answers,
        complete=True,
        mode=Response.STAFF_PAPER,
        user=user,
        participant=entry.participant,
        entry=number,
        language=entry.pack.language,
        response=existing,
        missing=missing,
        reason=f"paper entry verified against scan batch {entry.batch_id}",
    )
    entry.answers = dict(response.answers)
    entry.status, entry.verified_by, entry.verified_at = PaperEntry.VERIFIED, user, timezone.now()
    entry.response = response
    entry._change_reason = f"verified: response {response.pk} (entry {number})"
    entry.save()
    return response
