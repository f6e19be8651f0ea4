"""Read-only in the admin: locks, marks and signatures change only through their services
(unlocking needs a reason; a signature is never edited)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from enrolment.admin import ReadOnly

from ..models import Lock, LockedDataset, Signature, SourceVerification


@admin.register(Lock)
class LockAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ("trial", "level", "participant", "timepoint", "locked_by", "locked_at",
                    "unlocked_at")
    list_filter = ("trial", "level")


@admin.register(SourceVerification)
class SourceVerificationAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ("response", "verified_by", "verified_at", "cleared_at")


@admin.register(Signature)
class SignatureAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("participant", "timepoint", "signed_by", "signed_at", "values_sha256")


@admin.register(LockedDataset)
class LockedDatasetAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("trial", "file_name", "sha256", "created_at")
