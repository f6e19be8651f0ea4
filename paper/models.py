"""Packs printed for posting, scanned returns and the paper entries read from them.

Scans are kept in the database (``ScanPage.image``, PNG bytes), not as files under MEDIA:
no file name can carry personal data, backups hold them with the entries they prove, and
a page is deleted with its batch. A scan carries the study ID only (in its QR code).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from enrolment.models import Participant, Timepoint, Trial
from questionnaires import instruments


class Pack(models.Model):
    """One printed questionnaire pack: a participant's timepoint in one language, with the
    layout its pages were printed with (tick boxes and writing areas, in mm). The pack's
    number is in every page's QR code."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    timepoint = models.ForeignKey(Timepoint, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=8)
    # instrument code -> version printed
    versions = models.JSONField(default=dict)
    layout = models.JSONField(default=dict)
    message = models.ForeignKey(
        "followup.Message", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"pack {self.pk}: {self.participant.study_id} {self.timepoint.code}"

    @property
    def page_count(self) -> int:
        return len(self.layout.get("pages", []))


class ScanBatch(models.Model):
    """One upload of a scanner's output (a PDF or images). The uploaded file's name is not
    kept: scanners and people name files after patients."""

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    sha256 = models.CharField(max_length=64)
    pages = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"scan batch {self.pk} ({self.pages} pages)"


class ScanPage(models.Model):
    """One scanned page: matched to a pack's page by its QR code, or listed as unmatched
    with why (never dropped)."""

    MATCHED = "matched"
    UNMATCHED = "unmatched"
    STATUSES = [(MATCHED, _("Matched")), (UNMATCHED, _("Matched no participant"))]

    batch = models.ForeignKey(ScanBatch, on_delete=models.CASCADE, related_name="scan_pages")
    number = models.PositiveIntegerField(help_text=_("Page number within the upload"))
    image = models.BinaryField()  # the page as scanned, PNG, grey
    aligned = models.BinaryField(blank=True, default=b"")  # straightened to the layout, PNG
    status = models.CharField(max_length=10, choices=STATUSES)
    problem = models.CharField(max_length=300, blank=True)
    qr_text = models.CharField(max_length=200, blank=True)
    pack = models.ForeignKey(
        Pack, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pack_page = models.PositiveSmallIntegerField(null=True, blank=True)
    # per box: [instrument, item, value, darkness]; what the reader measured
    marks = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["batch", "number"]
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="unique_scan_page")]

    def __str__(self) -> str:
        return f"page {self.number} of {self.batch}"


class PaperEntry(models.Model):
    """One instrument read from a scanned pack, waiting for (or past) the data manager's
    verification. ``flags``: item id -> "blank", "double", "faint" or "write" (text and
    dates are not read; the data manager types them)."""

    PENDING = "pending"
    VERIFIED = "verified"
    STATUSES = [(PENDING, _("Waiting for verification")), (VERIFIED, _("Verified"))]

    batch = models.ForeignKey(ScanBatch, on_delete=models.CASCADE, related_name="entries")
    pack = models.ForeignKey(Pack, on_delete=models.PROTECT, related_name="entries")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    timepoint = models.ForeignKey(Timepoint, on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=40)
    version = models.PositiveSmallIntegerField()
    answers = models.JSONField(default=dict, blank=True)
    flags = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    response = models.ForeignKey(
        "questionnaires.Response", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["batch", "pk"]

    def __str__(self) -> str:
        return f"{self.participant.study_id} {self.timepoint.code} {self.instrument} from scan"

    @property
    def instrument_name(self) -> str:
        """The instrument's name as the staff pages show it (its code if unknown here)."""
        try:
            return gettext(instruments.get(self.instrument, self.version).name)
        except KeyError:
            return self.instrument
