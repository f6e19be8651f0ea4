"""Logging filters named in settings.LOGGING."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError


class ShortRequestErrors(logging.Filter):
    """One line per failed request where a traceback tells an operator nothing:

    - a refused request (403, 404, 400): the traceback of a PermissionDenied is noise;
    - a database outage (503): every request fails the same way, so the line names the
      database's own message instead of a hundred lines of driver frames.

    Other server errors (5xx) keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, OperationalError | InterfaceError):
            first = (str(error).strip().splitlines() or [""])[0]
            record.msg = f"{record.msg} (database unavailable: {first})"
            record.exc_info, record.exc_text = None, None
        elif getattr(record, "status_code", 500) < 500:
            record.exc_info, record.exc_text = None, None
        return True
