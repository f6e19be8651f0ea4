"""Bulk writes whose cost does not grow faster than the rows they write.

Django's ``bulk_update`` builds one ``CASE WHEN pk = ... THEN ...`` per field: one
query, but compiling and executing it is quadratic-ish in the batch (a 1,000-row batch
spent most of its time there in benchmarks/dispatch.py), and even for one row on SQLite
it cost 2.1 ms against 0.9 ms for a plain UPDATE. On PostgreSQL :func:`bulk_set` writes
``UPDATE ... FROM (VALUES ...)`` instead, one query as well; on SQLite, where a
statement is a function call in this process, one ``UPDATE ... WHERE id = ?`` run
for each row (``executemany``). :func:`bulk_insert` is
``bulk_create(ignore_conflicts=True)`` the same way on PostgreSQL.

Both hand the plain values of Django's own field classes (a string to a CharField, a
whole number to an IntegerField, an aware datetime to a DateTimeField, None) to the
database driver as they are: Django's preparation of each value of each row (the
field's ``get_db_prep_save``) was a tenth of the dispatcher's time, and does nothing
to them on PostgreSQL. Any other field or value is prepared by its field.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection, models, transaction

# Django's own field classes (not subclasses: those may prepare values their own way),
# and the type of the values that reach the driver as they are.
PLAIN = {
    models.AutoField: int,
    models.BigAutoField: int,
    models.BigIntegerField: int,
    models.BooleanField: bool,
    models.CharField: str,
    models.DateField: date,
    models.DateTimeField: datetime,
    models.IntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.SmallIntegerField: int,
    models.TextField: str,
}


def _plain_type(field):
    if type(field) is models.ForeignKey:
        return _plain_type(field.target_field)
    return PLAIN.get(type(field))


def _preparers(fields, plain: bool = True) -> list:
    """Per field: a function of the instance giving the value to send. With ``plain``
    false, every value is prepared by its field (SQLite stores datetimes as text)."""

    def preparer(field):
        attname, prep, kind = field.attname, field.get_db_prep_save, _plain_type(field)
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return lambda obj: prep(field.pre_save(obj, True), connection)
        if not plain:
            return lambda obj: prep(getattr(obj, attname), connection)

        def value(obj):
            v = getattr(obj, attname)
            if v is None or (type(v) is kind and (kind is not datetime or v.tzinfo)):
                return v  # a naive datetime is made aware (with a warning) by the field
            return prep(v, connection)

        return value

    return [preparer(f) for f in fields]


def bulk_set(model, objs: list, field_names: list[str]) -> None:
    if not objs:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    qn = connection.ops.quote_name
    if connection.vendor == "sqlite":
        _sqlite_set(meta, objs, fields)
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, field_names)
        return
    columns = ["id"] + [f.column for f in fields]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    values = _preparers(fields)
    params = []
    for obj in objs:
        params.append(obj.pk)
        params.extend(value(obj) for value in values)
    assignments = ", ".join(
        f"{qn(f.column)} = v.{qn(f.column)}::{f.db_type(connection)}" for f in fields
    )
    sql = (
        f"UPDATE {qn(meta.db_table)} AS t SET {assignments} "
        f"FROM (VALUES {', '.join([row] * len(objs))}) "
        f"AS v({', '.join(qn(c) for c in columns)}) WHERE t.{qn(meta.pk.column)} = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _sqlite_set(meta, objs: list, fields: list) -> None:
    qn = connection.ops.quote_name
    values = _preparers(fields, plain=False)
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    sql = f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(meta.pk.column)} = %s"
    rows = [[value(obj) for value in values] + [obj.pk] for obj in objs]
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def bulk_insert(model, objs: list) -> None:
    """``bulk_create(objs, ignore_conflicts=True)`` of instances without their
    (automatic) primary key: a row that would break a unique constraint is not
    written. The instances get no primary key."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, ignore_conflicts=True)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.auto_field]
    qn = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    values = _preparers(fields)
    params = []
    for obj in objs:
        params.extend(value(obj) for value in values)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * len(objs))} ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
