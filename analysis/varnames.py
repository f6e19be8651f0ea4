"""Column types and names shared by the exports and the syntax written beside them."""

from __future__ import annotations

import hashlib

NUMERIC, STRING, DATE = "numeric", "string", "date"


def stata_name(name: str) -> str:
    """At most 32 characters (Stata, SAS): a longer name becomes its first 27 characters,
    ``_`` and 4 hex digits of its SHA-1."""
    if len(name) <= 32:
        return name
    return f"{name[:27]}_{hashlib.sha1(name.encode()).hexdigest()[:4]}"  # noqa: S324
