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



class QueryRaiseIn(serializers.Serializer):
    participant = serializers.CharField(help_text="Study ID")
    value = serializers.CharField(
        help_text="The queried value as the protocol names it: <timepoint>.<instrument>.<item> "
        "(e.g. 3m.odi.q4, or 3m.odi.completed) or enrolment.<field>"
    )
    text = serializers.CharField(help_text="What is wrong with the value")


class QueryMessageIn(serializers.Serializer):
    text = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="The answer, or the reason (closing without a correction since the query "
        "was raised or re-opened needs one; re-opening always does)",
    )


class QueryCorrectIn(serializers.Serializer):
    new_value = serializers.JSONField(
        allow_null=True,
        help_text="The corrected value as the codebook types it (a code, a number, a list, "
        "an ISO date, a text); null leaves it missing",
    )
    text = serializers.CharField(help_text="Why the value changes (goes into the audit trail)")

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
    protocol_version = serializers.IntegerField(
        allow_null=True,
        help_text="The protocol version the participant was enrolled under (null: enrolled "
        "before the trial recorded versions)",
    )


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



class QueryOut(serializers.Serializer):
    id = serializers.IntegerField()
    participant = serializers.CharField(help_text="Study ID")
    clinic = serializers.CharField(help_text="Clinic code")
    value = serializers.CharField(help_text="e.g. 3m.odi.q4 or enrolment.consented_on")
    timepoint = serializers.CharField()
    instrument = serializers.CharField(help_text="Instrument code, or 'enrolment'")
    field = serializers.CharField()
    check = serializers.CharField(help_text="The edit check that raised it ('' for a person)")
    state = serializers.ChoiceField(choices=["open", "answered", "closed", "reopened"])
    raised_at = serializers.DateTimeField()
    raised_by = serializers.CharField(help_text="Username, or 'edit check'")
    closed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(help_text="Its last message")
    messages = serializers.IntegerField()


class QueryMessageOut(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(
        choices=["raised", "answered", "corrected", "closed", "reopened", "comment"])
    by = serializers.CharField(help_text="Username, or 'edit check'")
    text = serializers.CharField()
    old_value = serializers.JSONField(allow_null=True)
    new_value = serializers.JSONField(allow_null=True)
    values_hidden = serializers.BooleanField(
        help_text="A correction of a personal or (for your role) free-text value: not shown")


class QueryThreadOut(QueryOut):
    thread = QueryMessageOut(many=True)
    may = serializers.DictField(child=serializers.BooleanField(),
                                help_text="answer, close, reopen: what your role may do now")

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
