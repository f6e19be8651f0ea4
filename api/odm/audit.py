"""The last change of every exported value, read from the responses' audit history, for
the ODM file's AuditRecords (who by number, when, why)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from django.db.models import Q

from questionnaires.models import Response

from . import oids


def _stamp(moment) -> str:
    return moment.isoformat(timespec="seconds")


class AuditIndex:
    def __init__(self, last: dict[tuple[int, str], tuple]):
        self._last = last

    @classmethod
    def for_responses(cls, response_ids: list[int]) -> AuditIndex:
        last: dict[tuple[int, str], tuple] = {}
        if not response_ids:
            return cls(last)
        rows = (
            Response.history.filter(id__in=response_ids)
            .order_by("id", "history_date", "history_id")
            .values(
                "id", "answers", "missing", "history_date", "history_user_id",
                "history_change_reason",
            )
        )
        previous: dict[int, tuple[dict, dict]] = {}
        for row in rows.iterator(chunk_size=2000):
            answers, reasons = row["answers"] or {}, row["missing"] or {}
            old_answers, old_reasons = previous.get(row["id"], ({}, {}))
            for item in set(answers) | set(old_answers) | set(reasons) | set(old_reasons):
                if (answers.get(item), reasons.get(item)) != (
                    old_answers.get(item),
                    old_reasons.get(item),
                ):
                    last[(row["id"], item)] = (
                        row["history_user_id"],
                        row["history_date"],
                        row["history_change_reason"] or "",
                    )
            previous[row["id"]] = (answers, reasons)
        return cls(last)

    @staticmethod
    def users_of(responses: Q) -> list[int]:
        return sorted(
            set(
                Response.history.filter(responses)
                .exclude(history_user_id=None)
                .values_list("history_user_id", flat=True)
                .distinct()
            )
        )

    def record(self, response_id: int, item_id: str, location: str) -> str:
        change = self._last.get((response_id, item_id))
        if change is None:
            return ""
        user, when, reason = change
        why = f"<ReasonForChange>{escape(reason)}</ReasonForChange>" if reason else ""
        return (
            f"<AuditRecord><UserRef UserOID={quoteattr(oids.user(user))}/>"
            f"<LocationRef LocationOID={quoteattr(location)}/>"
            f"<DateTimeStamp>{_stamp(when)}</DateTimeStamp>{why}</AuditRecord>"
        )
