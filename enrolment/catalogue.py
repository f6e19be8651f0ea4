"""The instrument definitions as the protocol loader sees them, without importing the
questionnaires app that owns them (enrolment sits below it): the questionnaires app
registers its registry here in ``AppConfig.ready`` (:func:`register`), and the loader
asks :func:`get` and :func:`codes` for the instruments a protocol file names."""

from __future__ import annotations

from typing import Any, Protocol


class Registry(Protocol):
    def get(self, code: str) -> Any: ...

    def codes(self) -> set[str]: ...


_registry: Registry | None = None


def register(registry: Registry) -> None:
    global _registry
    _registry = registry


def _installed() -> Registry:
    if _registry is None:
        raise LookupError(
            "no instrument registry: the questionnaires app registers it when Django starts "
            "(questionnaires.apps); call django.setup() first"
        )
    return _registry


def get(code: str) -> Any:
    """The current definition of instrument ``code`` (KeyError when unknown)."""
    return _installed().get(code)


def codes() -> set[str]:
    """The codes of every known instrument."""
    return set(_installed().codes())
