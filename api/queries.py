"""Plain functions from the query querysets of data management to the API's JSON.

Rows come from :meth:`Query.objects.visible_to` (a physiotherapist: their clinic's; a
statistician: none), staff appear by username as in the query log CSV
(:mod:`datamanagement.queries.export`), and no value of a personal field is returned: a
correction of the date of birth says that it changed, never to what; a free-text item's
values are hidden from roles that may not see personal details (as in responses).
"""

from __future__ import annotations

from django.db.models import Count, OuterRef, Subquery

from datamanagement.queries import permissions
from datamanagement.queries.export import who as _who
from datamanagement.queries.models import Query, QueryMessage

from .data import Viewer, _text_items

# Enrolment fields whose values live in PersonalDetails.
PERSONAL_FIELDS = {"date_of_birth"}


def may_read(viewer: Viewer) -> bool:
    return permissions.can_read_trial(viewer.user, viewer.trial)


def queries(viewer: Viewer):
    """The trial's queries the viewer may see, with the time of their last message."""
    last = QueryMessage.objects.filter(query=OuterRef("pk")).order_by("-at", "-pk")
    return (
        Query.objects.visible_to(viewer.user)
        .filter(participant__trial=viewer.trial)
        .select_related("participant__clinic", "raised_by")
        .annotate(updated_at=Subquery(last.values("at")[:1]), n_messages=Count("messages"))
    )


def query(q: Query) -> dict:
    return {
        "id": q.pk,
        "participant": q.participant.study_id,
        "clinic": q.participant.clinic.code,
        "value": q.target,
        "timepoint": q.timepoint_code,
        "instrument": q.instrument,
        "field": q.field,
        "check": q.check_code,
        "state": q.state,
        "raised_at": q.raised_at,
        "raised_by": _who(q.raised_by),
        "closed_at": q.closed_at,
        "updated_at": getattr(q, "updated_at", None),
        "messages": getattr(q, "n_messages", None),
    }


def _hides_values(q: Query, viewer: Viewer) -> bool:
    if q.response_id is None:
        return q.field in PERSONAL_FIELDS
    if viewer.free_text:
        return False
    response = q.response
    return q.field in _text_items(response.instrument, response.version)


def thread(q: Query, viewer: Viewer) -> dict:
    """One query with its messages, oldest first."""
    hidden = _hides_values(q, viewer)
    out = query(q)
    out["thread"] = [
        {
            "at": m.at,
            "kind": m.kind,
            "by": _who(m.author),
            "text": m.text,
            "old_value": None if hidden else m.old_value,
            "new_value": None if hidden else m.new_value,
            "values_hidden": hidden and m.kind == QueryMessage.CORRECTED,
        }
        for m in q.messages.select_related("author").order_by("at", "pk")
    ]
    out["may"] = {
        "answer": q.state != Query.CLOSED and permissions.can_answer(viewer.user, q.participant),
        "close": q.state != Query.CLOSED and permissions.can_raise(viewer.user, q.participant),
        "reopen": q.state in (Query.CLOSED, Query.ANSWERED)
        and permissions.can_raise(viewer.user, q.participant),
    }
    return out
