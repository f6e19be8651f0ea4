"""The query log as rows and as CSV, with study IDs only (no personal identifiers, no
free text about a person beyond what staff wrote in the thread)."""

from __future__ import annotations

import csv
import io

from .models import QueryMessage

COLUMNS = [
    "query_id",
    "study_id",
    "clinic",
    "value",
    "timepoint",
    "instrument",
    "field",
    "check",
    "state",
    "raised_at",
    "raised_by",
    "closed_at",
    "message_at",
    "message_kind",
    "message_by",
    "message",
    "old_value",
    "new_value",
]


# The author of an edit check's own messages (no staff user), in the log and the API.
SYSTEM = "edit check"


def who(user) -> str:
    """Staff by user name only (the log carries no names or addresses)."""
    return user.get_username() if user is not None else SYSTEM


def query_log_rows(trial) -> list[dict]:
    """Every message of every query of ``trial``, one row each, oldest query first: the
    whole log (the database-lock bundle takes it as it is)."""
    messages = (
        QueryMessage.objects.filter(query__participant__trial=trial)
        .select_related("query__participant__clinic", "query__raised_by", "author")
        .order_by("query_id", "at", "pk")
    )
    rows = []
    for m in messages:
        q = m.query
        rows.append(
            {
                "query_id": q.pk,
                "study_id": q.participant.study_id,
                "clinic": q.participant.clinic.code,
                "value": q.target,
                "timepoint": q.timepoint_code,
                "instrument": q.instrument,
                "field": q.field,
                "check": q.check_code,
                "state": q.state,
                "raised_at": q.raised_at.isoformat(),
                "raised_by": who(q.raised_by),
                "closed_at": q.closed_at.isoformat() if q.closed_at else "",
                "message_at": m.at.isoformat(),
                "message_kind": m.kind,
                "message_by": who(m.author),
                "message": m.text,
                "old_value": "" if m.old_value is None else m.old_value,
                "new_value": "" if m.new_value is None else m.new_value,
            }
        )
    return rows


def query_log_csv(trial) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(query_log_rows(trial))
    return out.getvalue()
