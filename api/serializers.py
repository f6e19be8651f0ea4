"""Input of the write endpoints (and their place in the OpenAPI schema)."""

from __future__ import annotations

from rest_framework import serializers

from questionnaires.models import Response


class ResponseIn(serializers.Serializer):
    timepoint = serializers.CharField(help_text="Timepoint code, e.g. 3m")
    instrument = serializers.CharField(help_text="Instrument code, e.g. odi")
    answers = serializers.DictField(
        help_text="Item id -> value, as in the codebook; an absent item is unanswered"
    )
    complete = serializers.BooleanField(
        default=True, help_text="Stamp the response completed (the first time)"
    )
    mode = serializers.ChoiceField(
        choices=[Response.STAFF_PAPER, Response.STAFF_CLINIC], default=Response.STAFF_PAPER,
        help_text="How the answers reached you: from a paper form, or in the clinic",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="Required to change a completed response (goes into the audit trail)",
    )


# --- output, for the schema (the views build the same shapes in api.data) -----------------


class ParticipantOut(serializers.Serializer):
    study_id = serializers.CharField()
    clinic = serializers.CharField(help_text="Clinic code")
    cluster = serializers.CharField(help_text="Cluster code")
    enrolled_on = serializers.DateField()
    status = serializers.CharField()
    condition = serializers.CharField(
        help_text="Arm code, or the blinding code (A, B) for a statistician of a blinded trial"
    )
    crossover_washout = serializers.BooleanField()
    withdrawn_on = serializers.DateField(allow_null=True)
    died_on = serializers.DateField(allow_null=True)
    final_visit_on = serializers.DateField(allow_null=True)


class ScoreOut(serializers.Serializer):
    id = serializers.IntegerField()
    participant = serializers.CharField(help_text="Study ID")
    timepoint = serializers.CharField()
    instrument = serializers.CharField()
    version = serializers.IntegerField()
    week = serializers.IntegerField(allow_null=True)
    mode = serializers.CharField()
    scores = serializers.DictField()
    started_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class ResponseOut(ScoreOut):
    answers = serializers.DictField(help_text="Item id -> value (free text only for roles "
                                    "that may see personal details)")
    missing = serializers.DictField(help_text="Item id -> missing-data reason code")


class ContactOut(serializers.Serializer):
    id = serializers.IntegerField()
    participant = serializers.CharField()
    timepoint = serializers.CharField()
    due_on = serializers.DateField()
    window_opens = serializers.DateField()
    window_closes = serializers.DateField()
    status = serializers.CharField()
    invited_at = serializers.DateTimeField(allow_null=True)
    reminders_sent = serializers.IntegerField()
    completed_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    close_reason = serializers.CharField()


class ChangeOut(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class AuditEntryOut(serializers.Serializer):
    when = serializers.DateTimeField()
    who = serializers.CharField()
    what = serializers.CharField()
    action = serializers.CharField()
    reason = serializers.CharField()
    changes = ChangeOut(many=True)


class AuditOut(serializers.Serializer):
    participant = serializers.CharField()
    entries = AuditEntryOut(many=True)


class MetadataOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    registration = serializers.CharField()
    design = serializers.CharField()
    time_zone = serializers.CharField()
    blinded = serializers.BooleanField()
    conditions_blinded_for_you = serializers.BooleanField()
    arms = serializers.ListField(child=serializers.DictField())
    clusters = serializers.ListField(child=serializers.DictField())
    clinics = serializers.ListField(child=serializers.DictField())
    timepoints = serializers.ListField(child=serializers.DictField())
    instruments = serializers.ListField(
        child=serializers.DictField(), help_text="Items with choices, and scores with rules"
    )


class MeOut(serializers.Serializer):
    user = serializers.CharField()
    trial = serializers.CharField()
    token = serializers.DictField()
    roles = serializers.ListField(child=serializers.CharField())


class ErrorOut(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for scripts")
    detail = serializers.CharField(help_text="Why, for people")
    errors = serializers.DictField(required=False)


def page_of(item: type[serializers.Serializer]):
    """A cursor page of ``item`` rows, as :class:`api.views.base.Cursor` returns them."""
    return serializers.Serializer.__class__(
        f"Page{item.__name__}",
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )
