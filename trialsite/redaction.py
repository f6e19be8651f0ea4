"""Survey tokens out of everything staff and operators read: log lines, the outbox.

A personal survey link (``/s/<token>/``, :mod:`followup.tokens`) answers questionnaires
as the patient without a login, so it must reach the patient only. The token is 32
bytes of HMAC in URL-safe base64 (43 characters): such a value is replaced wherever it
stands, inside a link or alone.
"""

from __future__ import annotations

import logging
import re

HIDDEN = "[hidden]"
# A link's token (any length: a guessed or truncated one is still not for the log),
# then a bare value of exactly a token's shape.
_LINK = re.compile(r"(/s/)[A-Za-z0-9_-]{8,}")
_BARE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")


def redact(text: str) -> str:
    """``text`` with every survey token replaced by ``[hidden]``."""
    if not text:
        return text
    return _BARE.sub(HIDDEN, _LINK.sub(rf"\g<1>{HIDDEN}", text))


class RedactTokens(logging.Filter):
    """Installed on every handler in ``settings.LOGGING`` (a filter on a logger would miss
    the records its children propagate): the formatted message, and a traceback's text,
    leave with tokens replaced. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format is the handler's to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
