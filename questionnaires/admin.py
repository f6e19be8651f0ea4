from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import InstrumentWording, Response


@admin.register(Response)
class ResponseAdmin(SimpleHistoryAdmin):
    """Read-only: responses change through the site's forms, which ask for a reason."""

    list_display = (
        "id",
        "participant",
        "physiotherapist",
        "timepoint",
        "instrument",
        "version",
        "entry",
        "mode",
        "completed_at",
        "not_done",
    )
    list_filter = ("instrument", "mode", "entry", "not_done", "timepoint__trial")
    search_fields = ("participant__study_id", "physiotherapist__study_code")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InstrumentWording)
class InstrumentWordingAdmin(SimpleHistoryAdmin):
    list_display = ("trial", "instrument", "version", "language", "source_file", "loaded_at")
    list_filter = ("trial", "instrument", "language")
