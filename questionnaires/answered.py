"""The timepoints each participant has answered, kept on write
(:class:`questionnaires.models.AnsweredTimepoints`): the monitoring's CONSORT flow reads
one row per participant instead of grouping every completed answer per participant
(700,000 rows, 0.44 s of the dashboard's 1.15 s at 100,000 participants; issue 19).

A timepoint is answered when the participant has a completed final response there, the
rule the CONSORT flow counts "responded" by. Every write of a response goes through
``Response.save``, which calls :func:`response_saved` with what counted before and what
counts now: one statement where a timepoint is newly answered (:func:`_add`), a count
again, under the row's lock, where an answer stops counting (:func:`_recount`). Rows
written around it (``bulk_create``, a data migration) get theirs from
:func:`refresh_answered`.
"""

from __future__ import annotations

from django.db import connection, transaction

UNKNOWN = object()  # what counted before: not loaded (a deferred field)


def key(timepoint_ids) -> str:
    """The stored form of a set of timepoint ids: comma-separated ("" for none), ascending
    where written whole, so that alike sets are mostly equal strings the database groups
    together."""
    return ",".join(str(i) for i in sorted(set(timepoint_ids)))


def ids_of(stored: str | None) -> set[int]:
    return {int(i) for i in stored.split(",")} if stored else set()


def state_of(response):
    """(participant id, timepoint id) where ``response``, as it is on the instance, counts
    as that participant having answered that timepoint; None where it does not; UNKNOWN
    where one of the values was not loaded (a deferred field). Called for every response
    read (``Response.from_db``): no query, no import."""
    values = response.__dict__
    names = ("participant_id", "timepoint_id", "entry", "completed_at")
    if any(name not in values for name in names):
        return UNKNOWN
    if (
        values["participant_id"]
        and values["entry"] == type(response).FINAL
        and values["completed_at"] is not None
    ):
        return values["participant_id"], values["timepoint_id"]
    return None


def response_saved(before, after, participant_id) -> None:
    """Keep the participant's answered set right after a response was saved: ``before``
    and ``after`` are its :func:`state_of` as loaded and as saved."""
    if before == after:
        return
    if before is None and after is not None:
        _add(*after)
        return
    # Something that counted no longer does (or it is not known what counted): read the
    # participant's answers again.
    for pid in {s[0] for s in (before, after) if s not in (None, UNKNOWN)} | {participant_id}:
        if pid:
            _recount(pid)


def _add(participant_id, timepoint_id) -> None:
    """One statement, whatever is stored: an insert, or the id appended where it is not
    in the set yet. The database takes the row's lock and applies the change to its
    latest version, so two answers of one participant saved at once both end up in it.
    Appended ids keep the order they were answered in, mostly the timepoints' own: the
    set is read as a set (:func:`ids_of`), and the grouping only splits a little more."""
    from .models import AnsweredTimepoints

    qn = connection.ops.quote_name
    table, column = qn(AnsweredTimepoints._meta.db_table), qn("timepoints")
    new = f"EXCLUDED.{column}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS t ({qn('participant_id')}, {column}) VALUES (%s, %s) "
            f"ON CONFLICT ({qn('participant_id')}) DO UPDATE SET {column} = CASE "
            f"WHEN t.{column} = '' THEN {new} "
            f"WHEN ',' || t.{column} || ',' LIKE '%%,' || {new} || ',%%' THEN t.{column} "
            f"ELSE t.{column} || ',' || {new} END",
            [participant_id, str(timepoint_id)],
        )


def _recount(participant_id) -> None:
    from .models import AnsweredTimepoints, Response

    with transaction.atomic(savepoint=False):
        AnsweredTimepoints.objects.bulk_create(
            [AnsweredTimepoints(participant_id=participant_id)], ignore_conflicts=True
        )
        # Locked first: then the read below sees every answer committed before it, and
        # an answer saved meanwhile is appended after this write (:func:`_add`).
        row = AnsweredTimepoints.objects.select_for_update().get(participant_id=participant_id)
        stored = key(
            Response.objects.filter(
                participant_id=participant_id, entry=Response.FINAL, completed_at__isnull=False
            ).values_list("timepoint_id", flat=True)
        )
        if stored != row.timepoints:
            row.timepoints = stored
            row.save(update_fields=["timepoints"])


def answered_sets(responses) -> dict[int, str]:
    """participant id -> stored set, from ``responses`` (a queryset of any rows)."""
    from .models import Response

    found: dict[int, set[int]] = {}
    rows = (
        responses.filter(
            participant__isnull=False, entry=Response.FINAL, completed_at__isnull=False
        )
        .order_by()
        .values_list("participant_id", "timepoint_id")
        .distinct()
    )
    for participant_id, timepoint_id in rows.iterator(chunk_size=10_000):
        found.setdefault(participant_id, set()).add(timepoint_id)
    return {pid: key(ids) for pid, ids in found.items()}


def refresh_answered(participants, batch_size: int = 5000) -> None:
    """Rewrite the answered sets of ``participants`` (a queryset) from their responses:
    for rows written around ``Response.save``."""
    from .models import AnsweredTimepoints, Response

    with transaction.atomic():
        pks = list(participants.order_by().values_list("pk", flat=True))
        sets = {}
        for start in range(0, len(pks), batch_size):
            chunk = pks[start : start + batch_size]
            sets.update(answered_sets(Response.objects.filter(participant_id__in=chunk)))
            AnsweredTimepoints.objects.filter(participant_id__in=chunk).delete()
        AnsweredTimepoints.objects.bulk_create(
            [AnsweredTimepoints(participant_id=pid, timepoints=s) for pid, s in sets.items()],
            batch_size=batch_size,
        )
