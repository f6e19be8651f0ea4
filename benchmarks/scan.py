"""Scanned returns: pages per second for reading 500 scanned pages (QR code, alignment
on the registration marks, every tick box), against decoding the same page images alone
(the baseline, measured in the same run). No database: the pack is BetterBack's 3-month
timepoint (every instrument its protocol file lists) laid out and printed as the site
prints it, filled and scanned in software (paper.simulate: 100 dpi, slight rotation,
noise, JPEG).

    .venv/bin/python benchmarks/scan.py [--pages 500] [--packs 10]

It also prints how many tick-box items of the distinct packs were read right, and how
many were flagged instead (a clean pack should have none flagged but its handwriting).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")

import cv2  # noqa: E402
import django  # noqa: E402

django.setup()

from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from paper import images, omr, printing, reading, simulate  # noqa: E402
from paper import layout as L  # noqa: E402
from paper.wording import section_for  # noqa: E402
from questionnaires.instruments import get  # noqa: E402

# The instruments of BetterBack's 3-month timepoint, as its protocol file lists them.
with (ROOT / "protocols" / "betterback.toml").open("rb") as _protocol:
    THREE_MONTHS = next(
        t["instruments"] for t in tomllib.load(_protocol)["timepoints"] if t["code"] == "3m"
    )


def printed_pack() -> tuple[bytes, dict]:
    sections = [section_for(None, get(code), "en") for code in THREE_MONTHS]
    pages = [L.cover_page([("Benchmark", 12, L.FONT)]), *L.form_pages(sections, 2)]
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(L.PAGE_W * mm, L.PAGE_H * mm))
    for page in pages:
        printing._draw_marks(c)
        printing._draw_qr(c, printing.qr_payload(1, "BB-W-0001", "3m", page.number, len(pages)))
        printing._draw_ops(c, page.ops)
        c.showPage()
    c.save()
    return out.getvalue(), L.layout_json(pages)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--packs", type=int, default=10)
    args = parser.parse_args()
    pdf, layout = printed_pack()
    rng = random.Random(1)
    scans, truths = [], []
    for _ in range(args.packs):  # differently filled and scanned packs, cycled
        pages = simulate.printed_pages(pdf, 200)
        truths.append(simulate.random_answers(layout, rng))
        simulate.fill(pages, layout, truths[-1], 200, rng=rng)
        scans += [images.png(simulate.scanner(p, rng)) for p in pages]
    batch = [scans[n % len(scans)] for n in range(args.pages)]
    by_page = {p["number"]: p["boxes"] for p in layout["pages"]}

    start = time.perf_counter()
    for data in batch:
        images.from_png(data)
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    boxes_read = 0
    for data in batch:
        boxes_read += len(_read(data, by_page)[3])
    reading = time.perf_counter() - start

    # An upload also stores every page twice (as scanned and aligned, paper.images.png);
    # zlib level 6 was the setting before 2026-11-30, timed here as the comparison.
    stored = {}
    for label, level in (("site", None), ("level 6", 6)):
        size = 0
        start = time.perf_counter()
        for data in batch:
            grey, aligned, _, _ = _read(data, by_page)
            for image in (grey, aligned):
                size += len(images.png(image) if level is None else _png_at(image, level))
        stored[label] = (time.perf_counter() - start, size)

    print(
        f"pages: {args.pages} (100 dpi scans of a {len(layout['pages'])}-page pack), "
        f"tick boxes read: {boxes_read}"
    )
    print(f"baseline, decoding the page images alone: {args.pages / baseline:8.1f} pages/s")
    print(f"scanning (decode, QR, align, read boxes):  {args.pages / reading:8.1f} pages/s")
    print(f"ratio scanning / baseline time: {reading / baseline:.1f}x")
    for label, (seconds, size) in stored.items():
        print(
            f"scanning and storing both images ({label}): {args.pages / seconds:8.1f} pages/s, "
            f"{seconds / baseline:.1f}x the baseline, {size / args.pages / 1024:.0f} KiB a page"
        )
    accuracy(scans, layout, truths, by_page)


def _read(data: bytes, by_page: dict) -> tuple:
    """One scanned page read as an upload reads it: (grey, aligned, page number, marks)."""
    grey = images.from_png(data)
    text, centre = omr.find_qr(grey)
    aligned = omr.aligned_page(grey, centre)
    number = printing.parse_qr(text)["page"]
    return grey, aligned, number, omr.box_darkness(aligned, by_page[number])


def _png_at(image, level: int) -> bytes:
    return cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, level])[1].tobytes()


def accuracy(scans: list[bytes], layout: dict, truths: list[dict], by_page: dict) -> None:
    per_pack = len(layout["pages"])
    versions = {code: get(code).version for code in THREE_MONTHS}
    right = wrong = flagged = 0
    for n, truth in enumerate(truths):
        darkness = {}
        for data in scans[n * per_pack : (n + 1) * per_pack]:
            _, _, number, marks = _read(data, by_page)
            darkness[number] = marks
        for r in reading.read_pack(layout, versions, darkness):
            flagged += sum(flag != omr.WRITE for flag in r.flags.values())
            for (code, item_id), value in truth.items():
                if code != r.code or item_id in r.flags:
                    continue
                right += r.answers.get(item_id) == value
                wrong += r.answers.get(item_id) != value
    total = right + wrong + flagged
    print(
        f"clean tick-box items of {len(truths)} packs: {total}, read right {right} "
        f"({100 * right / total:.2f} %), read wrong {wrong}, flagged {flagged}"
    )


if __name__ == "__main__":
    main()
