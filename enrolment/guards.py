"""Guards on the write path of clinical records.

Locks, frozen timepoints and a locked database belong to data management, an app above
this one. Enrolment must not import it, so data management registers a guard here and
every audited save and delete asks the guards first (:class:`enrolment.models.AuditedModel`),
whatever path writes: a page, the admin, the API, a management command or a Celery task.

A guard is ``guard(instance, action)`` with action ``"save"`` or ``"delete"``; it raises
:class:`WriteRefused` to refuse and returns to allow. Bulk ``QuerySet.update()`` bypasses
``save()``: code that writes clinical records in bulk calls :func:`check` per row itself.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError

Guard = Callable[[object, str], None]

_guards: list[Guard] = []


class WriteRefused(ValidationError):
    """A write to a clinical record was refused (the message says why, e.g. a lock)."""

    def __init__(self, message, code: str = "locked", params=None):
        super().__init__(message, code=code, params=params)


def register(guard: Guard) -> Guard:
    """Add ``guard`` (once; registering twice is harmless). Usable as a decorator."""
    if guard not in _guards:
        _guards.append(guard)
    return guard


def unregister(guard: Guard) -> None:
    if guard in _guards:
        _guards.remove(guard)


def check(instance, action: str = "save") -> None:
    """Ask every registered guard; the first refusal raises :class:`WriteRefused`."""
    for guard in list(_guards):
        guard(instance, action)


def refusal(instance, action: str = "save") -> str:
    """Why a write of ``instance`` would be refused now, or "": for a page that says so
    before anything is typed (:func:`check` raises instead)."""
    try:
        check(instance, action)
    except WriteRefused as exc:
        return " ".join(exc.messages)
    return ""
