from django.contrib import admin

from enrolment.admin import ReadOnly

from .models import SubjectAccess


@admin.register(SubjectAccess)
class SubjectAccessAdmin(ReadOnly, admin.ModelAdmin):
    """The subject access log, read only: rows are written by the subject access views."""

    list_display = ("at", "user", "participant", "format")
    list_filter = ("format", "participant__trial")
    date_hierarchy = "at"
