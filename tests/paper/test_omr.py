"""The reader's rules, without images: from box darkness to an answer or a flag; and the
layout every box is recorded in."""

import pytest

from paper import layout as L
from paper import omr
from paper.wording import section_for
from questionnaires.instruments import get


def boxes(values, darkness):
    return [({"v": v}, d) for v, d in zip(values, darkness, strict=True)]


def test_one_tick_is_the_answer():
    assert omr.decide("scale", boxes([0, 1, 2], [0.01, 0.35, 0.02])) == (1, "")


def test_two_ticks_no_tick_and_a_faint_mark_are_flagged():
    assert omr.decide("scale", boxes([0, 1, 2], [0.3, 0.02, 0.4])) == (None, omr.DOUBLE)
    assert omr.decide("choice", boxes([1, 2, 3], [0.01, 0.02, 0.01])) == (None, omr.BLANK)
    # a light mark alone: offered as read, flagged
    assert omr.decide("choice", boxes([1, 2, 3], [0.01, 0.09, 0.01])) == (2, omr.FAINT_MARK)
    # a tick beside a light mark (an answer rubbed out?): flagged too
    assert omr.decide("choice", boxes([1, 2, 3], [0.3, 0.09, 0.01])) == (1, omr.FAINT_MARK)


def digit_boxes(ticked: dict[int, int], top: int = 1):
    out = []
    for place, last in ((2, top), (1, 9), (0, 9)):
        for digit in range(last + 1):
            out.append(({"v": digit, "p": place}, 0.4 if ticked.get(place) == digit else 0.01))
    return out


@pytest.mark.parametrize(
    "ticked, expected",
    [
        ({1: 4, 0: 5}, (45, "")),  # the hundreds left blank, as people do
        ({2: 1, 1: 0, 0: 0}, (100, "")),
        ({2: 0, 1: 0, 0: 7}, (7, "")),
        ({}, (None, omr.BLANK)),
        ({1: 4}, (None, omr.BLANK)),  # units missing: not guessed
        ({2: 1, 1: 5, 0: 0}, (None, omr.RANGE)),  # 150 on a 0-100 scale
    ],
)
def test_numbers_ticked_as_digits(ticked, expected):
    assert omr.decide("scale", digit_boxes(ticked), 0, 100) == expected


def test_every_item_of_the_3_month_pack_has_its_boxes_on_the_page():
    codes = ["nrs", "odi", "eq5d3l", "bipq", "pei", "satisfaction", "pgic"]
    sections = [section_for(None, get(c), "da") for c in codes]
    pages = L.form_pages(sections, first_number=2)
    layout = L.layout_json(pages)
    placed = {(b["i"], b["q"]) for p in layout["pages"] for b in p["boxes"]}
    written = {(w["i"], w["q"]) for p in layout["pages"] for w in p["writes"]}
    for code in codes:
        for item in get(code).items:
            assert (code, item.id) in placed | written
    assert written == {("bipq", "q9")}
    for page in layout["pages"]:
        for b in page["boxes"]:
            # inside the printable area, clear of the registration marks and the QR code
            assert L.LEFT <= b["x"] and b["x"] + b["w"] <= L.RIGHT
            assert L.TOP <= b["y"] and b["y"] + b["h"] <= L.BOTTOM
    # the Danish recall sentence comes from the catalog
    assert sections[0].instruction != get("nrs", 1).recall
