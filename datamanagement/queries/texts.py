"""A query message as the reader sees it: people's messages as they wrote them; the edit
check's own texts (its message from the protocol file, "passes now", "fails again") and
the site's "closed after the correction" stored in English for the query log, shown in
the page's language."""

from __future__ import annotations

from django.utils.translation import get_language, gettext

from enrolment.edit_checks import message_in

from .actions import CLOSED_AFTER_CORRECTION
from .checks import FAILS_AGAIN, PASSES_NOW
from .models import Query, QueryMessage


def shown(message: QueryMessage, query: Query, checks: list[dict] | None) -> str:
    if not message:  # a query without its first message (never, but a template asks)
        return ""
    if message.text in (PASSES_NOW, FAILS_AGAIN, CLOSED_AFTER_CORRECTION):
        return gettext(message.text)  # the site's own words, whoever closed it
    if message.author_id is not None:
        return message.text
    if message.kind == QueryMessage.RAISED and query.check_code:
        language = (get_language() or "en").split("-")[0]
        for check in checks or []:
            # The same English text: the check was not re-worded since (an amendment).
            if check["code"] == query.check_code and message_in(check, "en") == message.text:
                return message_in(check, language)
    return message.text
