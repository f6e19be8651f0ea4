"""Logging filters named in settings.LOGGING."""

from __future__ import annotations

import logging


class OneLineClientErrors(logging.Filter):
    """A refused request (403, 404, 400) is one line in the log, not a traceback: the
    traceback of a PermissionDenied says nothing an operator needs. Server errors (5xx)
    keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
