"""Claiming waiting messages for one dispatcher: committed before anything is sent.

On PostgreSQL one statement per kind of waiting row, by primary key::

    UPDATE t SET status = 'sending', claim = %s, claimed_at = %s, attempts = attempts + 1
     WHERE id IN (SELECT id FROM t WHERE <waiting> ORDER BY ... LIMIT n
                  FOR UPDATE SKIP LOCKED)
    RETURNING id

The inner scan reads the partial index in claim order and stops at its LIMIT; the
rows it returns are locked, so the outer update needs no second look at the
"waiting" condition. The earlier claim re-applied that condition with ``id IN
(...)``, which PostgreSQL ran as a bitmap scan of the partial index, walking every dead
entry earlier claims had left: batches grew slower over a run. Two dispatchers take
disjoint rows (SKIP LOCKED).

Without row locks (SQLite, the embedded installation) the update stays conditional:
a row another dispatcher claimed in the meantime no longer matches and stays theirs.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from ..models import Message


def stale(now: datetime) -> Q:
    """Claimed by a dispatcher that has not recorded an outcome within the lease."""
    lease = timedelta(seconds=settings.FOLLOWUP_SENDING_LEASE_SECONDS)
    return Q(status=Message.SENDING, claimed_at__lt=now - lease)


def waiting(now: datetime) -> Q:
    return Q(status__in=[Message.PENDING, Message.RETRY], next_attempt_at__lte=now) | stale(now)


def _claim_sql(table: str, condition: str, order: str, returning: str) -> str:
    return (
        f'UPDATE "{table}" SET status = %s, claim = %s, claimed_at = %s, '
        f"attempts = attempts + 1 "
        f'WHERE id IN (SELECT id FROM "{table}" WHERE {condition} '
        f"ORDER BY {order} LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING {returning}"
    )


def _claim_by_pk(
    model, claim: str, now: datetime, batch_size: int, returning: str = "id"
) -> list[tuple]:
    """The claimed rows (the ``returning`` columns, as the update left them)."""
    table = model._meta.db_table
    lease = now - timedelta(seconds=settings.FOLLOWUP_SENDING_LEASE_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(
            _claim_sql(
                table,
                "status IN ('pending', 'retry') AND next_attempt_at <= %s",
                "next_attempt_at, id",
                returning,
            ),
            [Message.SENDING, claim, now, now, batch_size],
        )
        rows = cursor.fetchall()
        if len(rows) < batch_size:
            cursor.execute(
                _claim_sql(
                    table, "status = 'sending' AND claimed_at < %s", "claimed_at, id", returning
                ),
                [Message.SENDING, claim, now, lease, batch_size - len(rows)],
            )
            rows += cursor.fetchall()
    return rows


def _claim_conditionally(model, claim: str, now: datetime, batch_size: int):
    """The claimed rows, as a queryset (empty when nothing was waiting)."""
    # Two index-ordered scans rather than one OR: each stops at its LIMIT.
    pending = model.objects.filter(
        status__in=[Message.PENDING, Message.RETRY], next_attempt_at__lte=now
    ).order_by("next_attempt_at", "id")
    ids = list(pending.values_list("id", flat=True)[:batch_size])
    taken_over = model.objects.filter(stale(now)).order_by("claimed_at", "id")
    ids += list(taken_over.values_list("id", flat=True)[: batch_size - len(ids)])
    if not ids:
        return model.objects.none()
    model.objects.filter(waiting(now), pk__in=ids).update(
        status=Message.SENDING, claim=claim, claimed_at=now, attempts=F("attempts") + 1
    )
    return model.objects.filter(claim=claim, status=Message.SENDING)


def claim_waiting(now: datetime, batch_size: int, model, related: tuple[str, ...]) -> list:
    """Claim up to ``batch_size`` waiting messages of ``model`` (:class:`Message` or
    :class:`~followup.models.SmsMessage`) and commit the claim, the attempt counted,
    before anything is sent; return them with ``related`` loaded, in id order."""
    claim = uuid.uuid4().hex
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            ids = [row[0] for row in _claim_by_pk(model, claim, now, batch_size)]
        else:
            ids = list(
                _claim_conditionally(model, claim, now, batch_size).values_list("id", flat=True)
            )
    if not ids:
        return []
    return list(model.objects.filter(pk__in=ids).select_related(*related).order_by("id"))


def claim_rows(now: datetime, batch_size: int, model) -> list:
    """As :func:`claim_waiting`, without related rows: on PostgreSQL the instances are
    built from the claim's own ``RETURNING`` (no second query); the caller attaches
    what it has loaded already (:func:`followup.dispatch.claim_waiting`)."""
    claim = uuid.uuid4().hex
    with transaction.atomic():
        if not connection.features.has_select_for_update_skip_locked:
            return list(_claim_conditionally(model, claim, now, batch_size).order_by("id"))
        fields = model._meta.concrete_fields
        qn = connection.ops.quote_name
        rows = _claim_by_pk(model, claim, now, batch_size, ", ".join(qn(f.column) for f in fields))
    # Fields that convert what the database returns (JSON, say) convert it here too.
    converters = [(i, f.from_db_value) for i, f in enumerate(fields) if hasattr(f, "from_db_value")]
    names = [f.attname for f in fields]
    pk = fields.index(model._meta.pk)
    objs = []
    for row in sorted(rows, key=lambda r: r[pk]):
        if converters:
            row = list(row)
            for i, convert in converters:
                row[i] = convert(row[i], None, connection)
        objs.append(model.from_db(connection.alias, names, row))
    return objs
