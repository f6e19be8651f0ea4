"""Columns of an export (:class:`Var`), an export (:class:`Export`), their types and
names: shared by the exports, the reasons added to them and the syntax written beside them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

NUMERIC, STRING, DATE = "numeric", "string", "date"


def stata_name(name: str) -> str:
    """At most 32 characters (Stata, SAS): a longer name becomes its first 27 characters,
    ``_`` and 4 hex digits of its SHA-1."""
    if len(name) <= 32:
        return name
    return f"{name[:27]}_{hashlib.sha1(name.encode()).hexdigest()[:4]}"  # noqa: S324


@dataclass
class Var:
    """One column of an export, as the codebook describes it."""

    name: str
    label: str
    type: str = NUMERIC
    labels: dict = field(default_factory=dict)  # value -> label
    allowed: str = ""  # e.g. "0..10" or "1;2;3"
    instrument: str = ""
    version: str = ""
    rule: str = ""
    timepoint: str = ""


@dataclass
class Export:
    """Columns (as :class:`Var`) and a row generator; ``total`` participants for progress."""

    vars: list[Var]
    rows: Callable[[], Iterator[list]]
    total: int


def tp_suffix(code: str) -> str:
    return code.replace("-", "_")
