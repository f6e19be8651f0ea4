"""The instrument definitions as the protocol loader sees them, without importing the
questionnaires app that owns them (enrolment sits below it): the questionnaires app
registers its registry here in ``AppConfig.ready`` (:func:`register`), and the loader
asks :func:`get` and :func:`codes` for the instruments a protocol file names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Registry(Protocol):
    def get(self, code: str, version: int | None = None) -> Any: ...

    def codes(self) -> set[str]: ...


_registry: Registry | None = None
_declare: Callable[[list[dict]], Any] | None = None


def register(registry: Registry, declare: Callable[[list[dict]], Any] | None = None) -> None:
    """``declare`` validates and registers the instruments a protocol file defines
    (its ``[[instruments]]`` entries with a definition)."""
    global _registry, _declare
    _registry, _declare = registry, declare


def _installed() -> Registry:
    if _registry is None:
        raise LookupError(
            "no instrument registry: the questionnaires app registers it when Django starts "
            "(questionnaires.apps); call django.setup() first"
        )
    return _registry


def get(code: str, version: int | None = None) -> Any:
    """Instrument ``code`` at ``version``, or its current definition (KeyError when
    unknown)."""
    return _installed().get(code, version)


def declare(entries: list[dict]) -> None:
    """Register the instruments a protocol file defines (ValueError/ValidationError when a
    definition is wrong)."""
    _installed()
    if _declare is not None:
        _declare(declarations(entries))


def declarations(entries: list) -> list[dict]:
    """The ``[[instruments]]`` entries that define an instrument, without the trial's tags
    and item roles (an entry that only tags a shipped instrument defines nothing)."""
    own = {"code", "tags", "item_roles"}
    keep = [e for e in entries if isinstance(e, dict) and set(e) - own]
    return [{k: v for k, v in e.items() if k not in ("tags", "item_roles")} for e in keep]


def codes() -> set[str]:
    """The codes of every known instrument."""
    return set(_installed().codes())
