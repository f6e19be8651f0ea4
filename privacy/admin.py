from django.contrib import admin

from .models import SubjectAccess


@admin.register(SubjectAccess)
class SubjectAccessAdmin(admin.ModelAdmin):
    """The subject access log, read only: rows are written by the subject access views."""

    list_display = ("at", "user", "participant", "format")
    list_filter = ("format", "participant__trial")
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
