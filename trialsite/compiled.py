"""A hot query compiled to SQL once, then run with each request's values.

Django builds and compiles a queryset's SQL anew every time it runs, and works out again
how to turn its rows into objects. For the survey link's lookup (four joined tables and
a subquery, 160 columns) that took more time than PostgreSQL took to answer: 1.8 ms a
page, of which 0.9 ms building and compiling (benchmarks/survey.py). A
:class:`CompiledQuery` compiles once per thread and database connection, with
placeholder values in its parameters, and keeps what Django's model iterable works out
per query (the columns of each model, the related objects' populators, the converters);
each run puts the real values in the placeholders' places and builds the objects as the
queryset would have (select_related objects and annotations included).

Only a query whose SQL does not depend on its values can be kept this way: the values
must be plain parameters (an ``=`` filter on a column, not ``__in`` a list, not ``None``).
Each value must appear among the compiled parameters (checked when it is compiled).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

# The query is compiled twice, with two sets of placeholder values: a value's places are
# where the parameters hold its first placeholder, then its second. Integers stay within
# a small integer column's range (Django compiles an out-of-range lookup to no rows).
_MARKS = {str: ("\x00compiled:a:{}", "\x00compiled:b:{}"), int: (30001, 31001)}
_NAMES = itertools.count(1)
_PLACEHOLDER = re.compile(r"%%|%s")


@dataclass
class _Compiled:
    connection: object
    sql: str
    params: tuple
    slots: dict[str, list[int]]
    model: type
    fields: slice  # the row's columns of the queried model itself
    init_list: list[str]
    populators: list
    converters: dict
    compiler: object
    annotations: dict[str, int]
    columns: int | None  # rows are cut to this many columns (extra ordering columns)
    prepared: str | None = None  # PostgreSQL: the statement's PREPARE, and its EXECUTE
    execute: str | None = None
    prepared_on: object = None  # the database connection it was prepared on
    locks: bool = False  # select_for_update: only inside a transaction, as Django insists


class CompiledQuery:
    """``build(**values)`` gives the queryset; ``kinds`` names each value's type (str or
    int). ``CompiledQuery(lambda token_hash: Contact.objects.filter(token_hash=token_hash),
    token_hash=str).all(token_hash=h)``."""

    def __init__(self, build: Callable[..., QuerySet], **kinds: type):
        if any(kind not in (str, int) for kind in kinds.values()):
            raise TypeError("a compiled query's values are str or int")
        self._build = build
        self._marks = [
            {
                name: _MARKS[kind][n].format(name) if kind is str else _MARKS[kind][n] + i
                for i, (name, kind) in enumerate(kinds.items())
            }
            for n in (0, 1)
        ]
        self._local = threading.local()
        self._name = f"trialsite_compiled_{next(_NAMES)}"

    def _compiled(self) -> _Compiled:
        kept = getattr(self._local, "kept", None)
        if kept is not None and kept.connection is connections[kept.connection.alias]:
            return kept
        queryset = self._build(**self._marks[0])
        alias = queryset.db or router.db_for_read(queryset.model)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()  # also works out the select and its models
        other_sql, other = self._build(**self._marks[1]).query.get_compiler(using=alias).as_sql()
        if other_sql != sql or len(other) != len(params):
            raise ValueError("the compiled query's SQL depends on its values")
        slots = {
            name: [
                i for i, (p, q) in enumerate(zip(params, other, strict=True))
                if p == mark and q == self._marks[1][name]
            ]
            for name, mark in self._marks[0].items()
        }
        unplaced = [name for name, found in slots.items() if not found]
        if unplaced:
            raise ValueError(f"the compiled query does not take {', '.join(unplaced)}")
        placed = sum(len(found) for found in slots.values())
        if placed != sum(p != q for p, q in zip(params, other, strict=True)):
            raise ValueError("the compiled query's SQL depends on its values")
        # What django.db.models.query.ModelIterable works out for every run.
        select, klass_info = compiler.select, compiler.klass_info
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        compiled = _Compiled(
            connection=connections[alias],
            sql=sql,
            params=tuple(params),
            slots=slots,
            model=klass_info["model"],
            fields=slice(first, last),
            init_list=[column[0].target.attname for column in select[first:last]],
            populators=get_related_populators(klass_info, select, alias),
            converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
            compiler=compiler,
            annotations=dict(compiler.annotation_col_map),
            columns=compiler.col_count if compiler.has_extra_select else None,
            locks=queryset.query.select_for_update,
        )
        if compiled.connection.vendor == "postgresql":
            # PostgreSQL plans the statement once a connection, not on every run: it
            # planned the link's lookup in 0.42 ms and ran it in 0.07 ms.
            numbers = itertools.count(1)
            body = _PLACEHOLDER.sub(
                lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql
            )
            compiled.prepared = f"PREPARE {self._name} AS {body}"
            compiled.execute = f"EXECUTE {self._name} ({', '.join(['%s'] * len(params))})"
        self._local.kept = compiled
        return compiled

    def _run(self, compiled: _Compiled, params: list) -> list:
        with compiled.connection.cursor() as cursor:
            if compiled.prepared is None:
                cursor.execute(compiled.sql, params)
                return cursor.fetchall()
            # Kept as long as the connection: a new one (reconnected, or replaced after a
            # failed health check) prepares it again.
            if compiled.prepared_on is not compiled.connection.connection:
                cursor.execute(compiled.prepared)
                compiled.prepared_on = compiled.connection.connection
            cursor.execute(compiled.execute, params)
            return cursor.fetchall()

    def all(self, **values) -> list:
        if values.keys() != self._marks[0].keys():
            raise TypeError(f"a compiled query takes {', '.join(self._marks[0])}")
        compiled = self._compiled()
        features = compiled.connection.features
        if (
            compiled.locks
            and features.has_select_for_update
            and features.supports_transactions
            and compiled.connection.get_autocommit()
        ):
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = list(compiled.params)
        for name, places in compiled.slots.items():
            for place in places:
                params[place] = values[name]
        rows = self._run(compiled, params)
        if compiled.columns is not None:
            rows = [row[: compiled.columns] for row in rows]
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        found = []
        db = compiled.connection.alias
        for row in rows:
            obj = compiled.model.from_db(db, compiled.init_list, row[compiled.fields])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, column in compiled.annotations.items():
                setattr(obj, name, row[column])
            found.append(obj)
        return found

    def first(self, **values):
        found = self.all(**values)
        return found[0] if found else None
