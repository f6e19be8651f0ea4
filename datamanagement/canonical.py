"""Canonical JSON and its SHA-256: the one way this app fingerprints values (SDV marks,
signatures, the locked dataset's manifest)."""

from __future__ import annotations

import hashlib
import json


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def sha256_of(value) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def response_values(response) -> dict:
    """What a form says: its answers and its missing-data reasons (scores are derived)."""
    return {"answers": response.answers or {}, "missing": getattr(response, "missing", {}) or {}}
