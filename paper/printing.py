"""Questionnaire packs as PDF: a cover letter with the return address, then the timepoint's
instruments, every page with registration marks in its corners and a QR code that names
the pack, the study ID, the timepoint and the page.

Printing a pack creates a :class:`paper.models.Pack` holding the layout the scanner reads
against; printing the same message's pack again reuses it while its layout is unchanged.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from questionnaires.instruments import for_trial

from . import layout as L
from .models import Pack
from .settings import paper_settings
from .wording import section_for

QR_PREFIX = "LBP"


def qr_payload(pack_id: int, study_id: str, timepoint: str, page: int, pages: int) -> str:
    return f"{QR_PREFIX}:{pack_id}:{study_id}:{timepoint}:{page}/{pages}"


def parse_qr(text: str) -> dict | None:
    """The fields of a pack page's QR code, or None for any other code."""
    parts = (text or "").split(":")
    if len(parts) != 5 or parts[0] != QR_PREFIX:
        return None
    try:
        page, pages = (int(n) for n in parts[4].split("/"))
        return {
            "pack": int(parts[1]),
            "study_id": parts[2],
            "timepoint": parts[3],
            "page": page,
            "pages": pages,
        }
    except ValueError:
        return None


@dataclass
class Printed:
    pack: Pack
    pages: list[L.Page]
    recipient: str
    address: list[str]


def language_of(participant) -> str:
    details = getattr(participant, "personal_details", None)
    trial = participant.trial
    if details is not None and details.preferred_language in trial.languages:
        return details.preferred_language
    return trial.default_language


def timepoint_label(timepoint, language: str) -> str:
    return (timepoint.labels or {}).get(language) or timepoint.label


def _letter(participant, timepoint, language: str) -> tuple[list, str, list[str]]:
    trial = participant.trial
    settings = paper_settings(trial)
    details = getattr(participant, "personal_details", None)
    name = details.full_name if details is not None and not details.erased_at else ""
    address = list(settings.return_address) or [participant.clinic.name]
    label = timepoint_label(timepoint, language)
    with translation.override(language):
        letter = [
            (gettext("Questionnaires: %(timepoint)s") % {"timepoint": label}, 15, L.BOLD),
            ("", 10, L.FONT),
            (
                gettext("Dear %(name)s,") % {"name": name}
                if name
                else gettext("Dear participant,"),
                11,
                L.FONT,
            ),
            (
                gettext(
                    "Thank you for taking part in %(trial)s. It is time for the questionnaires at "
                    "%(timepoint)s. Please answer the questions on the following pages and send "
                    "all pages back in the enclosed envelope."
                )
                % {"trial": trial.name, "timepoint": label},
                11,
                L.FONT,
            ),
            (
                gettext(
                    "Mark each answer with a clear cross inside one box, with a dark pen. If you "
                    "change your mind, write the right answer beside the question: every page is "
                    "checked by a person."
                ),
                11,
                L.FONT,
            ),
            (
                gettext(
                    "Please do not write on the black squares in the corners or on the square code "
                    "at the top of each page."
                ),
                11,
                L.FONT,
            ),
            ("", 10, L.FONT),
            (gettext("Return address:"), 11, L.BOLD),
            *[(line, 11, L.FONT) for line in address],
            ("", 10, L.FONT),
            (
                gettext("Questions? Please contact %(clinic)s.")
                % {"clinic": participant.clinic.name},
                10,
                L.FONT,
            ),
        ]
    return letter, name, address


def compose(participant, timepoint) -> tuple[list[L.Page], str, dict]:
    """The pages of a participant's pack (not yet numbered in a Pack), its language and
    the instrument versions printed."""
    language = language_of(participant)
    instruments = [for_trial(timepoint.trial, code) for code in timepoint.instruments]
    letter, _, _ = _letter(participant, timepoint, language)
    sections = [section_for(participant.trial, i, language) for i in instruments]
    pages = [L.cover_page(letter), *L.form_pages(sections, first_number=2)]
    return pages, language, {i.code: i.version for i in instruments}


@transaction.atomic
def pack_for(participant, timepoint, user=None, message=None) -> Printed:
    """The pack to print: the message's unposted pack if its layout is unchanged, else a
    new one."""
    pages, language, versions = compose(participant, timepoint)
    layout = L.layout_json(pages)
    pack = None
    if message is not None:
        pack = (
            Pack.objects.select_for_update()
            .filter(message=message, posted_at__isnull=True, layout=layout)
            .first()
        )
    if pack is None:
        pack = Pack.objects.create(
            participant=participant,
            timepoint=timepoint,
            language=language,
            versions=versions,
            layout=layout,
            message=message,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
    _, name, address = _letter(participant, timepoint, language)
    return Printed(pack, pages, name, address)


# --- drawing -----------------------------------------------------------------------------


def _y(y_mm: float) -> float:
    return (L.PAGE_H - y_mm) * mm


def _draw_marks(c: canvas.Canvas) -> None:
    c.setFillGray(0)
    for x, y in L.MARKS:
        c.rect(
            (x - L.MARK / 2) * mm, _y(y + L.MARK / 2), L.MARK * mm, L.MARK * mm, fill=1, stroke=0
        )


def _draw_qr(c: canvas.Canvas, text: str) -> None:
    qr = segno.make(text, error="m", micro=False)
    matrix = qr.matrix
    x0, y0, side = L.QR_BOX
    module = side / len(matrix)
    for row, bits in enumerate(matrix):
        for col, bit in enumerate(bits):
            if bit:
                c.rect(
                    (x0 + col * module) * mm,
                    _y(y0 + (row + 1) * module),
                    module * mm + 0.05,
                    module * mm + 0.05,
                    fill=1,
                    stroke=0,
                )


def _draw_ops(c: canvas.Canvas, ops: list) -> None:
    for op in ops:
        kind = op[0]
        if kind in ("text", "ctext", "rtext"):
            _, x, y, size, font, text = op
            c.setFont(font, size)
            draw = {"text": c.drawString, "ctext": c.drawCentredString, "rtext": c.drawRightString}[
                kind
            ]
            draw(x * mm, _y(y), text)
        elif kind in ("box", "rect"):
            _, x, y, w, h = op
            c.setLineWidth(0.9 if kind == "box" else 0.5)
            c.rect(x * mm, _y(y + h), w * mm, h * mm, fill=0, stroke=1)


def draw_pack(c: canvas.Canvas, printed: Printed) -> None:
    pack = printed.pack
    participant, timepoint = pack.participant, pack.timepoint
    total = len(printed.pages)
    label = timepoint_label(timepoint, pack.language)
    for page in printed.pages:
        _draw_marks(c)
        _draw_qr(c, qr_payload(pack.pk, participant.study_id, timepoint.code, page.number, total))
        with translation.override(pack.language):
            head = gettext("Page %(page)s of %(pages)s") % {"page": page.number, "pages": total}
        c.setFont(L.BOLD, 11)
        c.drawString(L.LEFT * mm, _y(18), participant.trial.name[:70])
        c.setFont(L.FONT, 11)
        c.drawString(L.LEFT * mm, _y(25), f"{participant.study_id}  ·  {label}")
        c.drawString(L.LEFT * mm, _y(32), head)
        _draw_ops(c, page.ops)
        c.showPage()


def render(printed_packs: list[Printed]) -> bytes:
    """One PDF of the packs, one after the other."""
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(L.PAGE_W * mm, L.PAGE_H * mm), pageCompression=1)
    c.setTitle("Questionnaire packs")
    for printed in printed_packs:
        draw_pack(c, printed)
    c.save()
    return out.getvalue()
