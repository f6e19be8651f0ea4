"""Scanned returns: pages per second for reading 500 scanned pages (QR code, alignment
on the registration marks, every tick box), against decoding the same page images alone
(the baseline, measured in the same run). No database: the pack is BetterBack's 3-month
timepoint laid out and printed as the site prints it, filled and scanned in software
(paper.simulate: 100 dpi, slight rotation, noise, JPEG).

    .venv/bin/python benchmarks/scan.py [--pages 500]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")

import django  # noqa: E402

django.setup()

from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from paper import images, omr, printing, simulate  # noqa: E402
from paper import layout as L  # noqa: E402
from paper.wording import section_for  # noqa: E402
from questionnaires.instruments import get  # noqa: E402

THREE_MONTHS = ["nrs", "odi", "eq5d3l", "bipq", "pei", "satisfaction", "pgic"]


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
    args = parser.parse_args()
    pdf, layout = printed_pack()
    rng = random.Random(1)
    scans = []
    for _ in range(3):  # three differently filled and scanned packs, cycled
        pages = simulate.printed_pages(pdf, 200)
        simulate.fill(pages, layout, simulate.random_answers(layout, rng), 200, rng=rng)
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
        grey = images.from_png(data)
        text, centre = omr.find_qr(grey)
        aligned = omr.aligned_page(grey, centre)
        boxes_read += len(omr.box_darkness(aligned, by_page[printing.parse_qr(text)["page"]]))
    reading = time.perf_counter() - start

    print(
        f"pages: {args.pages} (100 dpi scans of a {len(layout['pages'])}-page pack), "
        f"tick boxes read: {boxes_read}"
    )
    print(f"baseline, decoding the page images alone: {args.pages / baseline:8.1f} pages/s")
    print(f"scanning (decode, QR, align, read boxes):  {args.pages / reading:8.1f} pages/s")
    print(f"ratio scanning / baseline time: {reading / baseline:.1f}x")


if __name__ == "__main__":
    main()
