"""Where everything sits on the printed pack: a pure function of the instruments and their
wording in one language, with no database and no drawing.

The result has two halves. ``ops`` (text, boxes, lines) is what the PDF draws; ``layout``
(JSON) is what the scanner needs: every tick box with its item and value, every area for
handwriting, and the registration marks, in millimetres from the page's top-left corner.
The layout is stored with the pack (:class:`paper.models.Pack`), so a scan is read against
the page as it was printed even if a wording changes later.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportlab.lib.utils import simpleSplit

from questionnaires.instruments import base

LAYOUT_VERSION = 1
PAGE_W, PAGE_H = 210.0, 297.0  # A4 in mm
MARK = 7.0  # registration mark (solid square) side
# Centres of the four registration marks, top-left, top-right, bottom-left, bottom-right.
MARKS = ((12.0, 12.0), (198.0, 12.0), (12.0, 285.0), (198.0, 285.0))
QR_BOX = (163.0, 8.0, 26.0)  # x, y, side: top right, inside the marks
LEFT, RIGHT = 20.0, 190.0
TOP, BOTTOM = 42.0, 272.0
BOX = 5.0  # tick-box side
FONT, BOLD = "Helvetica", "Helvetica-Bold"
PT = 0.3528  # mm per point
# A SCALE with more points than this is read as digits (EQ VAS 0-100), as on the web form.
MAX_ROW_POINTS = 11
TEXT_AREA = {base.TEXT: 24.0, base.DATE: 10.0}


@dataclass
class ItemWording:
    """The words printed for one item in the respondent's language."""

    text: str
    help: str = ""
    anchors: tuple[str, str] = ("", "")
    choices: dict[int, str] = field(default_factory=dict)


@dataclass
class Section:
    """One instrument as printed: its title, instruction and items' wording."""

    instrument: base.Instrument
    title: str
    instruction: str
    items: dict[str, ItemWording]


@dataclass
class Page:
    number: int
    kind: str  # "cover" or "form"
    ops: list = field(default_factory=list)
    boxes: list = field(default_factory=list)
    writes: list = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "number": self.number,
            "kind": self.kind,
            "boxes": self.boxes,
            "writes": self.writes,
        }


def wrap(text: str, width_mm: float, size: float, font: str = FONT) -> list[str]:
    return simpleSplit(text, font, size, width_mm / PT) or [""]


def line_height(size: float) -> float:
    return size * PT * 1.25


class _Flow:
    """Fills pages top to bottom, starting a new page when a block does not fit."""

    def __init__(self, first_number: int):
        self.pages: list[Page] = []
        self.next_number = first_number
        self.y = BOTTOM
        self.page: Page | None = None

    def new_page(self) -> None:
        self.page = Page(self.next_number, "form")
        self.pages.append(self.page)
        self.next_number += 1
        self.y = TOP

    def room_for(self, height: float) -> None:
        if self.page is None or self.y + height > BOTTOM:
            self.new_page()

    def text(self, lines: list[str], size: float, x: float = LEFT, font: str = FONT) -> None:
        for line in lines:
            self.y += line_height(size)
            self.page.ops.append(("text", x, self.y, size, font, line))


def _scale_row(flow: _Flow, section: Section, item: base.Item, words: ItemWording) -> None:
    values = list(range(item.min, item.max + 1))
    step = min(14.0, (RIGHT - LEFT) / len(values))
    anchor_w = max(step * 3, 40.0)
    low = wrap(words.anchors[0], anchor_w, 8)
    high = wrap(words.anchors[1], anchor_w, 8)
    flow.y += 1.5
    for n, value in enumerate(values):
        x = LEFT + n * step + (step - BOX) / 2
        flow.page.ops.append(("ctext", x + BOX / 2, flow.y + 3.0, 9, FONT, str(value)))
        _box(flow, section, item, value, x, flow.y + 4.0)
    flow.y += 4.0 + BOX
    for n, line in enumerate(low):
        flow.page.ops.append(("text", LEFT, flow.y + 3.2 + n * 3.4, 8, FONT, line))
    for n, line in enumerate(high):
        flow.page.ops.append(
            ("rtext", LEFT + len(values) * step, flow.y + 3.2 + n * 3.4, 8, FONT, line)
        )
    flow.y += 1.0 + 3.4 * max(len(low), len(high), 0)


def _choice_list(flow: _Flow, section: Section, item: base.Item, words: ItemWording) -> None:
    codes = [c.code for c in item.choices] if item.kind != base.YESNO else [1, 0]
    for code in codes:
        lines = wrap(words.choices.get(code, str(code)), RIGHT - LEFT - 10, 9)
        flow.y += 1.2
        _box(flow, section, item, code, LEFT + 1, flow.y)
        for n, line in enumerate(lines):
            flow.page.ops.append(
                ("text", LEFT + 9, flow.y + 3.8 + n * line_height(9), 9, FONT, line)
            )
        flow.y += max(BOX, line_height(9) * len(lines))


def _digit_grid(flow: _Flow, section: Section, item: base.Item, words: ItemWording) -> None:
    """A number written as one tick per digit place (hundreds, tens, units), so that a
    scanner reads it without handwriting recognition."""
    places = len(str(item.max))
    if words.anchors[0] or words.anchors[1]:
        note = f"{item.min} = {words.anchors[0]}; {item.max} = {words.anchors[1]}"
        flow.text(wrap(note, RIGHT - LEFT, 8), 8)
    flow.y += 1.0
    for place in range(places - 1, -1, -1):
        top_digit = min(9, item.max // 10**place)
        flow.page.ops.append(("text", LEFT, flow.y + 7.5, 8, FONT, f"×{10**place}"))
        for digit in range(top_digit + 1):
            x = LEFT + 14 + digit * 10
            flow.page.ops.append(("ctext", x + BOX / 2, flow.y + 3.0, 8, FONT, str(digit)))
            _box(flow, section, item, digit, x, flow.y + 3.8, place=place)
        flow.y += 3.8 + BOX + 1.0


def _write_area(flow: _Flow, section: Section, item: base.Item) -> None:
    height = TEXT_AREA[item.kind]
    flow.y += 1.5
    area = {
        "i": section.instrument.code,
        "q": item.id,
        "kind": item.kind,
        "x": LEFT,
        "y": round(flow.y, 2),
        "w": RIGHT - LEFT,
        "h": height,
    }
    flow.page.ops.append(("rect", LEFT, flow.y, RIGHT - LEFT, height))
    flow.page.writes.append(area)
    flow.y += height


def _box(
    flow: _Flow,
    section: Section,
    item: base.Item,
    value: int,
    x: float,
    y: float,
    place: int | None = None,
) -> None:
    flow.page.ops.append(("box", x, y, BOX, BOX))
    box = {
        "i": section.instrument.code,
        "q": item.id,
        "v": value,
        "x": round(x, 2),
        "y": round(y, 2),
        "w": BOX,
        "h": BOX,
    }
    if place is not None:
        box["p"] = place
    flow.page.boxes.append(box)


def item_height(item: base.Item, words: ItemWording) -> float:
    """A generous estimate, so that an item is never split across two pages."""
    text = len(wrap(words.text, RIGHT - LEFT, 10)) * line_height(10) + 3
    if words.help:
        text += len(wrap(words.help, RIGHT - LEFT, 8)) * line_height(8)
    if item.kind in TEXT_AREA:
        return text + TEXT_AREA[item.kind] + 2
    if item.kind in (base.CHOICE, base.MULTI, base.YESNO):
        labels = words.choices.values() or ["", ""]
        return text + sum(
            max(BOX, line_height(9) * len(wrap(label, RIGHT - LEFT - 10, 9))) + 1.2
            for label in labels
        )
    if _is_digits(item):
        return text + 6 + len(str(item.max)) * (3.8 + BOX + 1.0)
    return text + 1.5 + 4.0 + BOX + 1.0 + 3 * 3.4


def _is_digits(item: base.Item) -> bool:
    return item.kind == base.NUMBER or (
        item.kind == base.SCALE and item.max - item.min + 1 > MAX_ROW_POINTS
    )


def _item(flow: _Flow, section: Section, item: base.Item, number: int) -> None:
    words = section.items[item.id]
    flow.room_for(item_height(item, words))
    flow.y += 2.0
    flow.text(wrap(f"{number}. {words.text}", RIGHT - LEFT, 10), 10, font=BOLD)
    if words.help:
        flow.text(wrap(words.help, RIGHT - LEFT, 8), 8)
    if item.kind in TEXT_AREA:
        _write_area(flow, section, item)
    elif item.kind in (base.CHOICE, base.MULTI, base.YESNO):
        _choice_list(flow, section, item, words)
    elif _is_digits(item):
        _digit_grid(flow, section, item, words)
    else:
        _scale_row(flow, section, item, words)


def form_pages(sections: list[Section], first_number: int) -> list[Page]:
    flow = _Flow(first_number)
    for section in sections:
        head = wrap(section.title, RIGHT - LEFT, 13, BOLD)
        lines = wrap(section.instruction, RIGHT - LEFT, 9) if section.instruction else []
        first = section.instrument.items[0]
        flow.room_for(
            len(head) * line_height(13)
            + len(lines) * line_height(9)
            + 6
            + item_height(first, section.items[first.id])
        )
        flow.y += 4.0
        flow.text(head, 13, font=BOLD)
        flow.text(lines, 9)
        for number, item in enumerate(section.instrument.items, start=1):
            _item(flow, section, item, number)
    return flow.pages


def cover_page(letter: list[tuple[str, float, str]]) -> Page:
    """The cover letter: (text, size, font) paragraphs, top to bottom."""
    page = Page(1, "cover")
    y = TOP
    for text, size, font in letter:
        if not text:
            y += line_height(size)
            continue
        for line in wrap(text, RIGHT - LEFT, size, font):
            y += line_height(size)
            page.ops.append(("text", LEFT, y, size, font, line))
        y += 1.5
    return page


def layout_json(pages: list[Page]) -> dict:
    return {
        "version": LAYOUT_VERSION,
        "page_size": [PAGE_W, PAGE_H],
        "marks": [list(m) for m in MARKS],
        "mark_size": MARK,
        "qr": list(QR_BOX),
        "pages": [p.as_json() for p in pages],
    }
