"""The write path of the health care process measures: SWOT analyses (a document per
analysis, kept outside the web root) and the patients selected for an interview.

Documents: PDF, Word (.docx) or OpenDocument text (.odt), at most
:data:`MAX_DOCUMENT_BYTES`; the type is checked from the file's first bytes, not only its
name, and the file is stored under ``VAR_DIR`` with a random name, so nothing the
uploader chose reaches the file system. Only the trial's implementation roles download
it (:mod:`implementation.views_process`)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrolment.consent.reading import interview_candidates
from enrolment.models import Clinic, Participant

from .models import Interview, SwotAnalysis
from .workshops import check_role

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
ZIP = b"PK\x03\x04"
DOCUMENT_TYPES = {  # suffix -> (first bytes, content type)
    ".pdf": (b"%PDF-", "application/pdf"),
    ".docx": (ZIP, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".odt": (ZIP, "application/vnd.oasis.opendocument.text"),
}


def document_dir() -> Path:
    return Path(settings.VAR_DIR) / "implementation" / "swot"


def check_document(name: str, size: int, head: bytes) -> str:
    """The content type of an acceptable document, or a ValidationError saying why not."""
    suffix = Path(name).suffix.lower()
    if suffix not in DOCUMENT_TYPES:
        raise ValidationError(
            _("%(name)s: only PDF, Word (.docx) or OpenDocument (.odt) files are accepted.")
            % {"name": name}
        )
    if size > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            _("%(name)s is %(size)s MB; the limit is %(limit)s MB.")
            % {"name": name, "size": f"{size / 2**20:.1f}", "limit": MAX_DOCUMENT_BYTES // 2**20}
        )
    if size == 0:
        raise ValidationError(_("%(name)s is empty.") % {"name": name})
    magic, content_type = DOCUMENT_TYPES[suffix]
    if not head.startswith(magic):
        raise ValidationError(
            _("%(name)s is not a %(suffix)s file: its content does not match its name.")
            % {"name": name, "suffix": suffix}
        )
    return content_type


@transaction.atomic
def record_swot(clinic: Clinic, *, held_on: date, upload, user) -> SwotAnalysis:
    """A SWOT analysis held at ``clinic`` with its document (an uploaded file object)."""
    check_role(user, clinic.cluster.trial)
    _not_in_future(clinic.cluster.trial, held_on)
    name = Path(upload.name).name[:200]
    head = upload.read(8)
    upload.seek(0)
    content_type = check_document(name, upload.size, head)
    folder = document_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored_as = f"{secrets.token_hex(16)}{Path(name).suffix.lower()}"
    digest = hashlib.sha256()
    path = folder / stored_as
    with path.open("xb") as out:
        path.chmod(0o600)
        for chunk in upload.chunks():
            digest.update(chunk)
            out.write(chunk)
    row = SwotAnalysis(
        clinic=clinic,
        held_on=held_on,
        file_name=name,
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        stored_as=stored_as,
        uploaded_by=user,
    )
    row._history_user = user
    row._change_reason = "SWOT analysis uploaded"
    # A failed insert must not leave an orphan document behind.
    try:
        row.save()
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return row


def document_path(swot: SwotAnalysis) -> Path:
    return document_dir() / Path(swot.stored_as).name


# --- interviews ---------------------------------------------------------------------------


@transaction.atomic
def select_for_interview(participant: Participant, *, selected_on: date, user) -> Interview:
    """Only a participant who consented to be contacted may be selected, once."""
    check_role(user, participant.trial)
    if Interview.objects.filter(participant=participant).exists():
        raise ValidationError(_("%(id)s is already selected.") % {"id": participant.study_id})
    if participant.pk not in {p.pk for p in interview_candidates(participant.trial)}:
        raise ValidationError(
            _("%(id)s has not consented to be contacted for an interview.")
            % {"id": participant.study_id}
        )
    row = Interview(participant=participant, selected_on=selected_on)
    row._history_user = user
    row._change_reason = "selected for an interview"
    row.save()
    return row


INTERVIEW_FIELDS = ("asked_on", "answer", "answered_on", "interviewed_on")


def _not_in_future(trial, *days: date) -> None:
    """What happened is recorded after it happened (a walk entered an interview for
    next week), by the trial's own calendar."""
    today = timezone.now().astimezone(ZoneInfo(trial.time_zone)).date()
    if any(day and day > today for day in days):
        raise ValidationError(_("A date cannot be in the future."))


@transaction.atomic
def update_interview(interview: Interview, *, user, reason: str = "", **values) -> Interview:
    """Who was asked, what they answered, when they were interviewed; each step needs
    the one before it, and a recorded value changes only with a reason."""
    check_role(user, interview.participant.trial)
    new = {f: values.get(f, getattr(interview, f)) for f in INTERVIEW_FIELDS}
    new["answer"] = new["answer"] or ""
    if new["answer"] and not new["asked_on"]:
        raise ValidationError(_("Record when the participant was asked before the answer."))
    if new["answer"] and not new["answered_on"]:
        raise ValidationError(_("Record the date of the answer."))
    if new["interviewed_on"] and new["answer"] != Interview.YES:
        raise ValidationError(_("Only a participant who consented can be interviewed."))
    dates = [new["asked_on"], new["answered_on"], new["interviewed_on"]]
    known = [d for d in dates if d]
    _not_in_future(interview.participant.trial, *known)
    if known != sorted(known) or (new["asked_on"] and new["asked_on"] < interview.selected_on):
        raise ValidationError(_("The dates must follow each other: asked, answered, interviewed."))
    changed = [f for f in INTERVIEW_FIELDS if getattr(interview, f) != new[f]]
    if not changed:
        return interview
    if any(getattr(interview, f) not in (None, "") for f in changed) and not reason.strip():
        raise ValidationError(_("A reason is required to change a recorded value."))
    for f in changed:
        setattr(interview, f, new[f])
    interview._history_user = user
    interview._change_reason = (reason.strip() or "interview progress recorded")[:100]
    interview.save()
    return interview
