"""Optical mark recognition of a scanned pack page: pure functions of a grey image and the
page's layout (no database).

1. The QR code (zxing-cpp) names the pack and page and tells which way up the page is.
2. The four registration marks (solid squares in the corners) give a perspective
   transform onto the layout's millimetres (OpenCV), which undoes the scanner's rotation,
   shift and scale.
3. Each tick box is read as its darkness: the mean ink over its inside, measured against
   the paper's own white, so a grey scanner or a yellowed page reads alike.
4. Per item the box darkness becomes an answer or a flag: blank, two ticks ("double") or
   a mark too light to be sure of ("faint").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import layout as L

PX_PER_MM = 6.0  # resolution of the straightened page the boxes are read from
INSET = 1.0  # mm of each box's edge left out (its printed border, a slightly shifted scan)
# Box darkness (0 white .. 1 black over its inside). A pen cross covers 25-50 % of the
# inside (0.25-0.5 read); a box left empty reads below 3 % with scanner noise; a light
# pencil mark reads about 0.1.
MARKED = 0.18
FAINT = 0.05

BLANK, DOUBLE, FAINT_MARK, WRITE, RANGE, NO_PAGE = (
    "blank",
    "double",
    "faint",
    "write",
    "range",
    "nopage",
)
FLAG_LABELS = {
    BLANK: gettext_noop("No box ticked"),
    DOUBLE: gettext_noop("More than one box ticked"),
    FAINT_MARK: gettext_noop("A mark too faint to be sure of"),
    WRITE: gettext_noop("Handwriting: type it from the scan"),
    RANGE: gettext_noop("The ticked digits give a number out of range"),
    NO_PAGE: gettext_noop("The page with this item was not in the scan"),
}


class PageError(Exception):
    """A page that cannot be read (no QR code, registration marks not found)."""


@dataclass
class PageRead:
    qr_text: str
    aligned: np.ndarray  # the page straightened to the layout, PX_PER_MM
    darkness: list[float] = field(default_factory=list)  # per layout box, in layout order


def to_grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image


def find_qr(grey: np.ndarray) -> tuple[str, tuple[float, float]]:
    """The pack QR code's text and its centre as a fraction of the image (x, y)."""
    results = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode)
    if not results:
        small = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        results = zxingcpp.read_barcodes(small, formats=zxingcpp.BarcodeFormat.QRCode)
        if not results:
            raise PageError(_("No QR code found on the page."))
        grey = small
    code = results[0]
    p = code.position
    xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
    ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
    h, w = grey.shape[:2]
    return code.text, (sum(xs) / 4 / w, sum(ys) / 4 / h)


def upright(grey: np.ndarray, qr_centre: tuple[float, float]) -> np.ndarray:
    """The page turned so that the QR code is at the top right, where it was printed."""
    x, y = qr_centre
    if x >= 0.5 and y < 0.5:
        return grey
    if x < 0.5 and y >= 0.5:
        return cv2.rotate(grey, cv2.ROTATE_180)
    if x >= 0.5:  # bottom right: the page was turned a quarter clockwise
        return cv2.rotate(grey, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return cv2.rotate(grey, cv2.ROTATE_90_CLOCKWISE)


def find_marks(grey: np.ndarray) -> np.ndarray:
    """Centres (px) of the four registration marks: top-left, top-right, bottom-left,
    bottom-right."""
    h, w = grey.shape[:2]
    px_per_mm = w / L.PAGE_W
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(ink, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    expected = (L.MARK * px_per_mm) ** 2
    candidates = []
    for contour in contours:
        x, y, cw, ch = cv2.boundingRect(contour)
        if not 0.4 * expected <= cw * ch <= 2.2 * expected:
            continue
        if not 0.7 <= cw / ch <= 1.4:
            continue
        area = cv2.contourArea(contour)
        if area < 0.75 * cw * ch * 0.9:
            continue
        m = cv2.moments(contour)
        if m["m00"]:
            candidates.append((m["m10"] / m["m00"], m["m01"] / m["m00"]))
    if len(candidates) < 4:
        raise PageError(_("The registration marks in the corners were not found."))
    # Per corner the outermost candidate near it: the QR code's finder patterns look like
    # marks too, and on a shifted, turned page one can be nearer a mark's printed place
    # than the mark itself, but never further out towards the corner.
    found = []
    limit = 40 * px_per_mm
    for (mx, my), (sx, sy) in zip(L.MARKS, ((-1, -1), (1, -1), (-1, 1), (1, 1)), strict=True):
        ex, ey = mx * px_per_mm, my * (h / L.PAGE_H)
        near = [c for c in candidates if (c[0] - ex) ** 2 + (c[1] - ey) ** 2 <= limit**2]
        if not near:
            raise PageError(_("A registration mark is missing (a corner cut off or covered?)."))
        found.append(max(near, key=lambda c: sx * c[0] + sy * c[1]))
    return np.array(found, dtype=np.float32)


def straighten(grey: np.ndarray, marks: np.ndarray) -> np.ndarray:
    target = np.array(L.MARKS, dtype=np.float32) * PX_PER_MM
    matrix = cv2.getPerspectiveTransform(marks, target)
    size = (int(L.PAGE_W * PX_PER_MM), int(L.PAGE_H * PX_PER_MM))
    return cv2.warpPerspective(grey, matrix, size, flags=cv2.INTER_LINEAR, borderValue=255)


def paper_white(aligned: np.ndarray) -> float:
    return float(np.percentile(aligned, 90))


def box_darkness(aligned: np.ndarray, boxes: list[dict], white: float | None = None) -> list[float]:
    # A light blur first: scanner noise then averages out instead of adding up as "ink".
    aligned = cv2.blur(aligned, (3, 3))
    white = white or paper_white(aligned)
    out = []
    for box in boxes:
        x0 = int(round((box["x"] + INSET) * PX_PER_MM))
        y0 = int(round((box["y"] + INSET) * PX_PER_MM))
        x1 = int(round((box["x"] + box["w"] - INSET) * PX_PER_MM))
        y1 = int(round((box["y"] + box["h"] - INSET) * PX_PER_MM))
        inside = aligned[y0:y1, x0:x1].astype(np.float32)
        ink = np.clip((white - inside) / max(white, 1.0), 0.0, 1.0)
        out.append(round(float(ink.mean()), 4))
    return out


def aligned_page(grey: np.ndarray, qr_centre: tuple[float, float]) -> np.ndarray:
    grey = upright(grey, qr_centre)
    return straighten(grey, find_marks(grey))


def read_page(image: np.ndarray, boxes_for=None) -> PageRead:
    """Read one scanned page. ``boxes_for(qr_text)`` gives the layout boxes of the page the
    QR code names (None: the page is only straightened)."""
    grey = to_grey(image)
    text, centre = find_qr(grey)
    aligned = aligned_page(grey, centre)
    boxes = boxes_for(text) if boxes_for else None
    darkness = box_darkness(aligned, boxes) if boxes else []
    return PageRead(text, aligned, darkness)


# --- from box darkness to answers ---------------------------------------------------------


def _one_of(readings: list[tuple[int, float]]) -> tuple[int | None, str]:
    """(value, flag) for boxes of which one should be ticked; flag "" when certain."""
    marked = [(v, d) for v, d in readings if d >= MARKED]
    faint = [(v, d) for v, d in readings if FAINT <= d < MARKED]
    if len(marked) > 1:
        return None, DOUBLE
    if len(marked) == 1:
        return marked[0][0], FAINT_MARK if faint else ""
    if faint:
        return max(faint, key=lambda vd: vd[1])[0], FAINT_MARK
    return None, BLANK


def _digits(item_boxes: list[tuple[dict, float]], low: int, high: int) -> tuple[int | None, str]:
    places: dict[int, list[tuple[int, float]]] = {}
    for box, d in item_boxes:
        places.setdefault(box["p"], []).append((box["v"], d))
    read = {p: _one_of(r) for p, r in places.items()}
    if all(flag == BLANK for _, flag in read.values()):
        return None, BLANK
    top = max(places)
    flags = [flag for p, (_, flag) in read.items() if flag and not (p == top and flag == BLANK)]
    if any(f in (DOUBLE, BLANK) for f in flags):
        return None, DOUBLE if DOUBLE in flags else BLANK
    value = sum((v or 0) * 10**p for p, (v, _) in read.items())
    if not low <= value <= high:
        return None, RANGE
    return value, FAINT_MARK if FAINT_MARK in flags else ""


def decide(kind: str, item_boxes: list[tuple[dict, float]], low=None, high=None):
    """(value, flag) of one item from its boxes and their darkness."""
    if item_boxes and "p" in item_boxes[0][0]:
        return _digits(item_boxes, low, high)
    readings = [(box["v"], d) for box, d in item_boxes]
    if kind == "multi":
        chosen = sorted(v for v, d in readings if d >= MARKED)
        if any(FAINT <= d < MARKED for _, d in readings):
            return chosen, FAINT_MARK
        return chosen, ""
    return _one_of(readings)
