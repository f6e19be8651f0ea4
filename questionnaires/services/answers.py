"""What an answer may be: each value checked against its item (range, options, a reason
for missing data where the item allows one), unanswered items dropped, and the trial's
own wording of an instrument in a language; :class:`ResponseError` is what a refused
answer raises.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..instruments import base
from ..models import InstrumentWording, Response


class ResponseError(ValidationError):
    pass


# --- validation of answers given as data (commands, corrections, resolution) ----------


def _check_value(item: base.Item, value) -> str | None:
    """An error message for one answer, or None if it is valid for its item."""
    if value is None:
        return None
    if item.kind == base.MULTI:
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            return _("expected a list of whole numbers")
        bad = [v for v in value if v not in item.allowed_codes()]
        return _("not allowed: %(values)s") % {"values": bad} if bad else None
    if item.kind == base.TEXT:
        if not isinstance(value, str):
            return _("expected text")
        if len(value) > base.TEXT_MAX_LENGTH:
            return _("longer than %(n)s characters") % {"n": base.TEXT_MAX_LENGTH}
        return None
    if item.kind == base.DATE:
        try:
            dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            return _("expected a date YYYY-MM-DD")
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return _("expected a whole number")
    allowed = item.allowed_codes()
    if value not in allowed:
        if item.kind in (base.SCALE, base.NUMBER):
            return _("out of range %(min)s-%(max)s") % {"min": item.min, "max": item.max}
        return _("not one of %(values)s") % {"values": list(allowed)}
    return None


def validate_answers(instrument: base.Instrument, answers: dict) -> dict[str, str]:
    """Item id -> error for answers that do not fit the definition (unknown items too)."""
    errors = {}
    for item_id, value in answers.items():
        try:
            item = instrument.item(item_id)
        except KeyError:
            errors[item_id] = _("unknown item of %(instrument)s v%(version)s") % {
                "instrument": instrument.code, "version": instrument.version}
            continue
        message = _check_value(item, value)
        if message:
            errors[item_id] = message
    return errors


def entered(response: Response | None) -> dict:
    """What was entered per item: the answer, or the reason code standing in for it (the
    codes cannot collide with a real value). Used to compare paper entries."""
    if response is None:
        return {}
    return {**clean_answers(response.answers), **(response.missing or {})}


def clean_answers(answers: dict) -> dict:
    """Drop unanswered items: an absent key is the one way to say 'missing'."""
    return {k: v for k, v in answers.items() if base.answered(answers, k)}


# --- wording -------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _loaded_wording(trial_id, wording_stamp, code, version, language):
    # Keyed by the trial's stamp, drawn anew at every change of its wording: an entry of
    # an older stamp is never asked again and leaves the cache in time. The instance is
    # shared between requests and read only.
    return InstrumentWording.objects.filter(
        trial_id=trial_id, instrument=code, version=version, language=language
    ).first()


def wording_for(trial, instrument: base.Instrument, language: str) -> InstrumentWording | None:
    """The official wording of ``instrument`` in ``language`` for the trial, if loaded or
    declared. Read once per process and wording stamp of the trial: every patient's page
    asks."""
    if trial is None:
        return None
    loaded = _loaded_wording(
        trial.pk, trial.wording_stamp, instrument.code, instrument.version, language
    )
    declared = (instrument.options.get("wording") or {}).get(language)
    if loaded is None and declared:
        # An instrument the protocol file declares carries its wording: used, unsaved.
        return InstrumentWording(
            trial=trial,
            instrument=instrument.code,
            version=instrument.version,
            language=language,
            **declared,
        )
    return loaded
