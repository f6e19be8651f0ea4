"""Who may give which reason for a missing item, and the check of a response's reasons
(the codes are :mod:`questionnaires.missing`). Used by the services and the forms."""

from __future__ import annotations

from django.utils.translation import gettext as _

from . import missing as codes
from .instruments import base

# Who gives a reason for a missing item: staff (paper entry, corrections: every reason) or
# the respondent on their own pages (a survey link, the tablet: "prefer not to answer" only).
STAFF = "staff"
RESPONDENT = "respondent"


def patient_may_skip(item: base.Item) -> bool:
    """Where a respondent may say "prefer not to answer": an item the instrument does not
    require (ODI's sex life, B-IPQ's causes...). A required item is one the scoring needs
    (its published rule has no room for it missing), so no way round it is offered."""
    return not item.required


def allowed_reasons(item: base.Item, who: str) -> tuple[int, ...]:
    """The reason codes ``who`` (STAFF or RESPONDENT) may give for ``item``."""
    if who == STAFF:
        return tuple(codes.REASONS)
    return codes.PATIENT_REASONS if patient_may_skip(item) else ()


def validate_missing(
    instrument: base.Instrument, answers: dict, missing: dict, who: str, stored=None
) -> dict[str, str]:
    """Item id -> error for reasons that do not fit: an unknown item, a code that is not a
    reason (or not one this respondent may give), or an item with a value and a reason.
    A reason already ``stored`` (given by staff earlier) stays whoever saves next."""
    stored = stored or {}
    errors = {}
    for item_id, code in missing.items():
        try:
            item = instrument.item(item_id)
        except KeyError:
            errors[item_id] = _("unknown item of %(instrument)s v%(version)s") % {
                "instrument": instrument.code, "version": instrument.version}
            continue
        if not codes.is_reason(code):
            errors[item_id] = _("not a missing-data reason: %(code)r") % {"code": code}
        elif code not in allowed_reasons(item, who) and stored.get(item_id) != code:
            errors[item_id] = _("reason %(code)s is not allowed here") % {"code": code}
        elif base.answered(answers, item_id):
            errors[item_id] = _("an item has either a value or a reason for missing, not both")
    return errors
