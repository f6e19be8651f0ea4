"""Queries on one value, and their thread of messages.

A query is never deleted (:meth:`Query.delete` refuses; the admin is read-only): the
messages are its log, one row per state change or remark, with who and when.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from enrolment.models import Participant
from questionnaires.models import Response


class _KeptQuerySet(models.QuerySet):
    def delete(self):
        raise ValidationError(_("Queries are never deleted; close them instead."))


class QueryQuerySet(_KeptQuerySet):
    def visible_to(self, user):
        from .permissions import query_filter

        return self.filter(query_filter(user))


class Query(models.Model):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"
    REOPENED = "reopened"
    STATES = [
        (OPEN, _("Open")),
        (ANSWERED, _("Answered")),
        (CLOSED, _("Closed")),
        (REOPENED, _("Re-opened")),
    ]
    # Waiting for the clinic: open or re-opened. Waiting for data management: answered.
    WAITING_FOR_CLINIC = (OPEN, REOPENED)
    UNRESOLVED = (OPEN, REOPENED, ANSWERED)

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="queries")
    # The response whose item is queried; empty for an enrolment field.
    response = models.ForeignKey(
        Response, on_delete=models.PROTECT, null=True, blank=True, related_name="queries"
    )
    # An item id of the response, "completed" (its completion day) or an enrolment field.
    field = models.CharField(max_length=60)
    # The edit check that opened it ("" when raised by a person).
    check_code = models.CharField(max_length=60, blank=True, default="")
    state = models.CharField(max_length=10, choices=STATES, default=OPEN)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # Denormalised for the list's filters (a response's instrument; "enrolment" otherwise).
    instrument = models.CharField(max_length=40)
    timepoint_code = models.CharField(max_length=50, blank=True)

    objects = QueryQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name_plural = "queries"
        constraints = [
            # The same check never opens two queries on the same value.
            models.UniqueConstraint(
                fields=["response", "field", "check_code"],
                condition=Q(response__isnull=False) & ~Q(check_code=""),
                name="one_check_query_per_item",
            ),
            models.UniqueConstraint(
                fields=["participant", "field", "check_code"],
                condition=Q(response__isnull=True) & ~Q(check_code=""),
                name="one_check_query_per_enrolment_field",
            ),
        ]
        indexes = [models.Index(fields=["state", "participant"])]

    def __str__(self) -> str:
        return f"Query {self.pk} on {self.participant.study_id} {self.target}"

    @property
    def target(self) -> str:
        """The value as the protocol file names it: ``3m.odi.q4`` or ``enrolment.<field>``."""
        if self.response_id is None:
            return f"enrolment.{self.field}"
        return f"{self.timepoint_code}.{self.instrument}.{self.field}"

    @property
    def is_automatic(self) -> bool:
        return bool(self.check_code)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Queries are never deleted; close them instead."))


class QueryMessage(models.Model):
    RAISED = "raised"
    ANSWERED = "answered"
    CORRECTED = "corrected"
    CLOSED = "closed"
    REOPENED = "reopened"
    COMMENT = "comment"
    KINDS = [
        (RAISED, _("Raised")),
        (ANSWERED, _("Answered")),
        (CORRECTED, _("Corrected the value")),
        (CLOSED, _("Closed")),
        (REOPENED, _("Re-opened")),
        (COMMENT, _("Comment")),
    ]

    query = models.ForeignKey(Query, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=10, choices=KINDS)
    # Empty for the edit checks' own messages (raised and closed by the system).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    text = models.TextField()
    # A correction made from the query: the value before and after.
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)

    objects = _KeptQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on query {self.query_id}"

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Query messages are never deleted."))


class QueryDigest(models.Model):
    """One weekly digest sent to one user for one trial: a second run that week sends
    nothing again."""

    trial = models.ForeignKey("enrolment.Trial", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text=_("Monday of the week"))
    queries = models.PositiveIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trial", "user", "week"], name="one_digest_a_week")
        ]

    def __str__(self) -> str:
        return f"Query digest for {self.user} ({self.trial.code}, week of {self.week})"
