"""Bulk writes whose cost does not grow faster than the rows they write.

Django's ``bulk_update`` builds one ``CASE WHEN pk = ... THEN ...`` per field: one
query, but compiling and executing it is quadratic-ish in the batch (a 1,000-row batch
spent most of its time there in benchmarks/dispatch.py). On PostgreSQL
:func:`bulk_set` writes ``UPDATE ... FROM (VALUES ...)`` instead, one query as well;
elsewhere (SQLite) it falls back to ``bulk_update``.
"""

from __future__ import annotations

from django.db import connection


def bulk_set(model, objs: list, field_names: list[str]) -> None:
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, field_names)
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    qn = connection.ops.quote_name
    columns = ["id"] + [f.column for f in fields]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = []
    for obj in objs:
        params.append(obj.pk)
        params.extend(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields)
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
