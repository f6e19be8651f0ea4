"""Where enrolment needs an answer from an app above it: registries that the higher app
fills in its ``AppConfig.ready``, so that enrolment imports nothing from it (the app
order of DESIGN.md, checked by tests/test_layering.py). Others of the same kind:
``enrolment.audit.PARTICIPANT_HISTORY_SOURCES``, ``enrolment.catalogue`` and the signals
of ``enrolment.amendments``."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q

# The participant list's filters that belong to a higher app, by their query parameter:
# each returns a filter on Participant ("overdue": follow-up's contacts past due).
PARTICIPANT_FILTERS: dict[str, Callable[[], Q]] = {}
