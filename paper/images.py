"""Uploaded scans to page images and back: PDF pages rendered with PDFium (pypdfium2),
images (PNG, JPEG, multi-page TIFF) read with Pillow; pages stored as grey PNG."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pypdfium2 as pdfium
from django.utils.translation import gettext as _
from PIL import Image, ImageSequence

SCAN_DPI = 150  # PDF pages are rendered at this resolution (a scanner's usual 150-300)
# An upload is read within its web request. Reading and storing a page takes 0.14 s on an
# idle 2-core machine (benchmarks/scan.py: 7.1 pages/s) and about three times that under
# load, so 200 pages take 30-70 s: inside the web server's 120 s timeout (Dockerfile,
# docker-compose.yml). The 1,000 allowed before take minutes, and gunicorn's default 30 s
# would kill such a request (the data manager would see a bare 502; nothing is kept).
MAX_PAGES = 200


class UploadError(ValueError):
    pass


def pdf_pages(data: bytes, dpi: int = SCAN_DPI) -> list[np.ndarray]:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UploadError(_("Not a readable PDF (%(error)s).") % {"error": exc}) from None
    if len(document) > MAX_PAGES:
        raise UploadError(_("More than %(n)s pages: upload the scan in parts.") % {"n": MAX_PAGES})
    pages = []
    for page in document:
        bitmap = page.render(scale=dpi / 72, grayscale=True)
        pages.append(np.array(bitmap.to_pil().convert("L")))
    document.close()
    return pages


def image_pages(data: bytes) -> list[np.ndarray]:
    unreadable = _("Not a PDF or an image this site can read (PDF, PNG, JPEG, TIFF).")
    try:
        image = Image.open(io.BytesIO(data))
        count = getattr(image, "n_frames", 1)
    except (OSError, Image.DecompressionBombError, ValueError):
        raise UploadError(unreadable) from None
    if count > MAX_PAGES:  # refused before any page is decoded
        raise UploadError(_("More than %(n)s pages: upload the scan in parts.") % {"n": MAX_PAGES})
    try:
        return [np.array(frame.convert("L")) for frame in ImageSequence.Iterator(image)]
    except (OSError, Image.DecompressionBombError, ValueError):
        raise UploadError(unreadable) from None


def pages_of(data: bytes) -> list[np.ndarray]:
    """The pages of an uploaded file, grey, whatever it is."""
    if data[:5] == b"%PDF-":
        return pdf_pages(data)
    return image_pages(data)


def png(image: np.ndarray) -> bytes:
    # zlib level 1: a third of level 6's time (38 against 119 ms for a 150-dpi page) for
    # 4% more bytes; every page of an upload is stored twice (as scanned, and aligned).
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return encoded.tobytes()


def from_png(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(bytes(data), dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
