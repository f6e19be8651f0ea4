"""A pen and a scanner, in software: ticks drawn on the rendered pages of a printed pack,
then the pages put through what a clinic's scanner does to them (a slight rotation and
shift, noise, a lower resolution, JPEG). Used by the round-trip tests, the benchmark and
the demo's scanned return; nothing in the site's own path calls it."""

from __future__ import annotations

import io
import random

import cv2
import numpy as np
from PIL import Image

from . import layout as L
from .images import pdf_pages

CLEAN, FAINT, DOUBLE, BLANK = "clean", "faint", "double", "blank"


def printed_pages(pdf: bytes, dpi: int = 200) -> list[np.ndarray]:
    return pdf_pages(pdf, dpi=dpi)


def tick(
    image: np.ndarray,
    box: dict,
    dpi: int,
    ink: int = 25,
    rng: random.Random | None = None,
    style: str = "cross",
) -> None:
    """A pen mark in ``box``: a cross, or a check mark that leaves the box at the top
    right as people draw it (ink: the pen's grey level, 0 black, 255 white)."""
    rng = rng or random.Random(0)
    ppm = dpi / 25.4

    def wobble() -> float:
        return rng.uniform(-0.4, 0.4)

    x0, y0 = box["x"] + 0.8 + wobble(), box["y"] + 0.8 + wobble()
    x1, y1 = box["x"] + box["w"] - 0.8 + wobble(), box["y"] + box["h"] - 0.8 + wobble()
    if style == "check":
        points = [(x0, (y0 + y1) / 2 + 0.3), (x0 + (x1 - x0) * 0.35, y1), (x1 + 0.6, y0 - 0.8)]
        strokes = list(zip(points, points[1:], strict=False))
    else:
        strokes = [((x0, y0), (x1, y1)), ((x0, y1), (x1, y0))]
    thickness = max(1, int(round(0.45 * ppm)))
    for (ax, ay), (bx, by) in strokes:
        start, end = (int(ax * ppm), int(ay * ppm)), (int(bx * ppm), int(by * ppm))
        cv2.line(image, start, end, int(ink), thickness, lineType=cv2.LINE_AA)


def fill(
    pages: list[np.ndarray],
    layout: dict,
    answers: dict,
    dpi: int,
    faint: set | None = None,
    rng: random.Random | None = None,
) -> None:
    """Tick the boxes of ``answers`` ((instrument, item) -> value, a list of values for two
    ticks) on the page images, in place; items in ``faint`` get a light grey pencil."""
    faint = faint or set()
    rng = rng or random.Random(0)
    for page_image, page in zip(pages, layout["pages"], strict=True):
        for box in page["boxes"]:
            key = (box["i"], box["q"])
            if key not in answers:
                continue
            wanted = answers[key]
            if "p" in box:  # a number as digits: tick this place's digit
                wanted = (wanted // 10 ** box["p"]) % 10
                if box["p"] == len(str(layout_max(page, key))) - 1 and wanted == 0:
                    continue  # a leading zero is left blank, as people do
            values = wanted if isinstance(wanted, list) else [wanted]
            if box["v"] in values:
                ink = 205 if key in faint else rng.randint(10, 60)
                style = rng.choice(("cross", "check"))
                tick(page_image, box, dpi, ink=ink, rng=rng, style=style)


def layout_max(page: dict, key: tuple) -> int:
    return max(b["v"] * 10 ** b["p"] for b in page["boxes"] if (b["i"], b["q"]) == key)


def scanner(
    image: np.ndarray,
    rng: random.Random,
    dpi_in: int = 200,
    dpi_out: int = 100,
    max_angle: float = 1.5,
    noise: float = 8.0,
    jpeg: int = 80,
) -> np.ndarray:
    """The page as a cheap scanner returns it."""
    h, w = image.shape
    angle = rng.uniform(-max_angle, max_angle)
    shift = (rng.uniform(-3, 3) * dpi_in / 25.4, rng.uniform(-3, 3) * dpi_in / 25.4)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, rng.uniform(0.985, 1.015))
    matrix[:, 2] += shift
    turned = cv2.warpAffine(image, matrix, (w, h), borderValue=int(rng.uniform(235, 255)))
    scale = dpi_out / dpi_in
    small = cv2.resize(turned, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    noisy = small.astype(np.float32) * rng.uniform(0.9, 1.0) + np.random.default_rng(
        rng.randrange(1 << 30)
    ).normal(0, noise, small.shape)
    noisy = np.clip(noisy, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, jpeg])
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)


def as_pdf(images: list[np.ndarray], dpi: int = 100) -> bytes:
    """Page images as one PDF, as a scanner writes it."""
    out = io.BytesIO()
    frames = [Image.fromarray(i) for i in images]
    frames[0].save(out, format="PDF", save_all=True, append_images=frames[1:], resolution=dpi)
    return out.getvalue()


def random_answers(layout: dict, rng: random.Random) -> dict:
    """A plausible answer for every tick-box item of the pack: (instrument, item) -> value."""
    options: dict[tuple, set] = {}
    digits: dict[tuple, int] = {}
    for page in layout["pages"]:
        for box in page["boxes"]:
            key = (box["i"], box["q"])
            if "p" in box:
                digits[key] = max(digits.get(key, 0), layout_max(page, key))
            else:
                options.setdefault(key, set()).add(box["v"])
    answers = {key: rng.choice(sorted(values)) for key, values in options.items()}
    answers.update({key: rng.randint(0, top) for key, top in digits.items()})
    return answers


def page_size_px(dpi: int) -> tuple[int, int]:
    return int(L.PAGE_W / 25.4 * dpi), int(L.PAGE_H / 25.4 * dpi)
