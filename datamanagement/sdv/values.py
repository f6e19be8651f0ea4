"""A form's values item by item, as the monitor verifying it against source and the
investigator signing it read them: each item's wording, the value entered (a choice with
its label) or the reason it is missing. Plain functions of a response."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from questionnaires import missing
from questionnaires.instruments.base import Item
from questionnaires.readable import answer_text


@dataclass(frozen=True)
class ItemValue:
    item: str
    text: str
    value: str  # "" when nothing was entered
    reason: str  # why the value is missing, "" when it is not


def instrument_items(response) -> tuple[Item, ...]:
    """The items of the response's instrument version; none for a version this site no
    longer knows (its values are then listed as stored)."""
    try:
        return tuple(response.definition().items)
    except KeyError:
        return ()


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
            answer_text(item, answers.get(item.id)),
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
