from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from . import guards
from .models import (
    Arm,
    Clinic,
    Cluster,
    EligibilityCriterion,
    Erasure,
    Participant,
    PersonalDetails,
    Physiotherapist,
    ProtocolVersion,
    SmsSchedule,
    Timepoint,
    Trial,
    TrialRole,
)

for model in (Trial, Arm, Clinic, EligibilityCriterion, SmsSchedule, Timepoint):
    admin.site.register(model)


class ReadOnly:
    """An admin that shows records written only by their own services (an erasure, a
    protocol version, a lock, a subject-access request): no add, change or delete."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Cluster)
class ClusterAdmin(SimpleHistoryAdmin):
    list_display = ("name", "trial", "allocation_order", "crossover")


@admin.register(Physiotherapist)
class PhysiotherapistAdmin(admin.ModelAdmin):
    list_display = ("study_code", "user", "clinic", "active")
    list_filter = ("clinic__cluster__trial", "active")


@admin.register(TrialRole)
class TrialRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "trial", "role")
    list_filter = ("trial", "role")


class ReasonAdminForm(forms.ModelForm):
    change_reason = forms.CharField(
        required=False, help_text="Required when a saved value changes; kept in the audit trail."
    )

    def clean(self):
        cleaned = super().clean()
        changed = [f for f in self.changed_data if f != "change_reason"]
        if self.instance.pk and changed and not cleaned.get("change_reason", "").strip():
            self.add_error("change_reason", "Say why you change a saved value.")
        if self.instance.pk and changed:
            # Locked data (data management's guard): the form says why, not a 500.
            try:
                guards.check(self.instance, "save")
            except guards.WriteRefused as exc:
                self.add_error(None, exc)
        return cleaned


class ReasonAdmin(SimpleHistoryAdmin):
    form = ReasonAdminForm

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None:
            try:
                guards.check(obj, "delete")
            except guards.WriteRefused:
                return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        obj._change_reason = form.cleaned_data.get("change_reason", "").strip() or "created"
        super().save_model(request, obj, form, change)


@admin.register(Participant)
class ParticipantAdmin(ReasonAdmin):
    list_display = ("study_id", "clinic", "enrolled_on", "status")
    list_filter = ("trial", "status")
    search_fields = ("study_id",)
    # Allocation is decided at enrolment; the admin must not become a way around it.
    readonly_fields = ("study_id", "condition", "sequence", "trial", "crossover_washout")


@admin.register(PersonalDetails)
class PersonalDetailsAdmin(ReasonAdmin):
    list_display = ("participant",)
    search_fields = ("participant__study_id",)


@admin.register(Erasure)
class ErasureAdmin(ReadOnly, admin.ModelAdmin):
    """Read only: an erasure is recorded by enrolment.actions.erasure.erase_personal_data."""

    list_display = ("participant", "erased_at", "erased_by", "source", "reason")
    list_filter = ("source", "participant__trial")


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(ReadOnly, admin.ModelAdmin):
    """Read only: a version is written by loading its file (manage.py load_protocol)."""

    list_display = ("trial", "number", "loaded_at", "loaded_by", "amendment", "file_name")
