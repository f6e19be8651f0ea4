"""Queries in the admin: read-only (never added, changed or deleted there)."""

from django.contrib import admin

from .models import Query, QueryMessage


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MessageInline(admin.TabularInline):
    model = QueryMessage
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "author", "at", "text", "old_value", "new_value"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Query)
class QueryAdmin(ReadOnly):
    list_display = [
        "pk",
        "participant",
        "instrument",
        "timepoint_code",
        "field",
        "state",
        "check_code",
        "raised_at",
    ]
    list_filter = ["state", "instrument"]
    inlines = [MessageInline]
