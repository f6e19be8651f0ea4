"""From the darkness of every box of a pack's scanned pages to answers and flags per
instrument: pure, no database.

Handwritten text and dates are not read: their item is flagged "write" and the data
manager types it from the scan at verification. A page missing from the scan flags its
items "nopage"; nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from questionnaires.instruments import base, get

from . import omr


@dataclass
class InstrumentReading:
    code: str
    version: int
    answers: dict = field(default_factory=dict)
    flags: dict = field(default_factory=dict)  # item id -> omr flag


def read_pack(
    layout: dict, versions: dict, darkness: dict[int, list[float]]
) -> list[InstrumentReading]:
    """``darkness``: pack page number -> box darkness in the layout's box order, for the
    pages that were scanned."""
    boxes: dict[tuple[str, str], list[tuple[dict, float]]] = {}
    pages_of: dict[tuple[str, str], set[int]] = {}
    writes: set[tuple[str, str]] = set()
    for page in layout["pages"]:
        number = page["number"]
        seen = darkness.get(number)
        for n, box in enumerate(page["boxes"]):
            key = (box["i"], box["q"])
            pages_of.setdefault(key, set()).add(number)
            if seen is not None:
                boxes.setdefault(key, []).append((box, seen[n]))
        for area in page["writes"]:
            key = (area["i"], area["q"])
            pages_of.setdefault(key, set()).add(number)
            if seen is not None:
                writes.add(key)
    readings = []
    # in the order printed: a JSON column need not keep the order of its keys
    printed = list(dict.fromkeys(code for code, _ in pages_of))
    for code in sorted(versions, key=lambda c: printed.index(c) if c in printed else len(printed)):
        version = versions[code]
        instrument = get(code, version)
        reading = InstrumentReading(code, version)
        for item in instrument.items:
            key = (code, item.id)
            if key in writes:
                reading.flags[item.id] = omr.WRITE
                continue
            if key not in boxes or len(boxes[key]) < _box_count(layout, key):
                if key in pages_of:
                    reading.flags[item.id] = omr.NO_PAGE
                continue
            value, flag = omr.decide(item.kind, boxes[key], item.min, item.max)
            if value is not None and value != []:
                reading.answers[item.id] = value
            if flag and not (flag == omr.BLANK and not item.required and item.kind == base.MULTI):
                reading.flags[item.id] = flag
        readings.append(reading)
    return readings


def _box_count(layout: dict, key: tuple[str, str]) -> int:
    return sum(1 for p in layout["pages"] for b in p["boxes"] if (b["i"], b["q"]) == key)
