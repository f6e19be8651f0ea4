"""Instruments and answers as staff read them (comparing paper entries, verifying against
source, signing, filtering queries): an instrument by its name, a choice as
"code · label", yes or no, a scale's value with its range. Plain functions."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .instruments import base, for_trial, get


def answer_text(item: base.Item, value) -> str:
    """``value`` of ``item`` in words; "" when nothing was entered."""
    if value is None or value == "" or value == []:
        return ""
    if item.kind == base.YESNO and value in (0, 1):
        return _("yes") if value else _("no")
    labels = {c.code: _(c.label) for c in item.choices}
    if item.kind == base.CHOICE and value in labels:
        return f"{value} · {labels[value]}"
    if item.kind == base.MULTI and isinstance(value, list):
        return "; ".join(f"{v} · {labels[v]}" if v in labels else str(v) for v in value)
    if item.kind in (base.SCALE, base.NUMBER) and item.min is not None:
        # A bare 2 reads differently on a 0..10 and a -5..5 scale.
        return f"{value} ({item.min} … {item.max})"
    return str(value)


def instrument_name(code: str, version: int | None = None, trial=None) -> str:
    """The name of ``version`` of the instrument, else of the version ``trial`` asks
    (:func:`~questionnaires.instruments.for_trial`), else of its latest; its code where
    this site does not know it (an instrument or version since removed)."""
    try:
        if version is None and trial is not None:
            return for_trial(trial, code).name
        return get(code, version).name
    except KeyError:
        return code if version is None else f"{code} v{version}"
