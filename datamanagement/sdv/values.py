"""A form's values item by item, as the monitor verifying it against source and the
investigator signing it read them: each item's wording, the value entered (a choice with
its label) or the reason it is missing. Plain functions of a response."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from questionnaires import missing
from questionnaires.instruments.base import CHOICE, MULTI, NUMBER, SCALE, YESNO, Item


@dataclass(frozen=True)
class ItemValue:
    item: str
    text: str
    value: str  # "" when nothing was entered
    reason: str  # why the value is missing, "" when it is not


def _shown(item: Item, value) -> str:
    if value is None or value == "" or value == []:
        return ""
    if item.kind == YESNO and value in (0, 1):
        return _("yes") if value else _("no")
    labels = {c.code: _(c.label) for c in item.choices}
    if item.kind == CHOICE and value in labels:
        return f"{value} · {labels[value]}"
    if item.kind == MULTI and isinstance(value, list):
        return "; ".join(f"{v} · {labels[v]}" if v in labels else str(v) for v in value)
    if item.kind in (SCALE, NUMBER) and item.min is not None:
        # A bare 2 reads differently on a 0..10 and a -5..5 scale.
        return f"{value} ({item.min} … {item.max})"
    return str(value)


def instrument_items(response) -> tuple[Item, ...]:
    """The items of the response's instrument version; none for a version this site no
    longer knows (its values are then listed as stored)."""
    try:
        return tuple(response.definition().items)
    except KeyError:
        return ()


def instrument_name(response) -> str:
    try:
        return response.definition().name
    except KeyError:
        return f"{response.instrument} v{response.version}"


def item_values(response) -> list[ItemValue]:
    """Every item of the response's instrument in its order, then any value the
    instrument does not know (an item of another version), so nothing entered is hidden."""
    answers, reasons = response.answers or {}, response.missing or {}
    items = instrument_items(response)
    known = {item.id for item in items}
    rows = [
        ItemValue(
            item.id,
            _(item.text),
            _shown(item, answers.get(item.id)),
            missing.label(reasons[item.id]) if missing.is_reason(reasons.get(item.id)) else "",
        )
        for item in items
    ]
    for key in sorted((answers.keys() | reasons.keys()) - known):
        reason = reasons.get(key)
        value = answers.get(key)
        rows.append(ItemValue(key, "", "" if value is None else str(value),
                              missing.label(reason) if missing.is_reason(reason) else ""))
    return rows
