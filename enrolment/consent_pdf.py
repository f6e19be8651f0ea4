"""The PDF of an electronic consent: exactly the text shown, each item with the answer
given, the typed name and the time of signing, in the language it was shown in."""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from django.utils import translation
from django.utils.translation import gettext
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer


def _paragraphs(text: str, style) -> list:
    return [Paragraph(escape(p).replace("\n", "<br/>"), style) for p in text.split("\n\n")]


def render_consent_pdf(ec, items: list[tuple[str, str]]) -> bytes:
    styles = getSampleStyleSheet()
    out = BytesIO()
    doc = ec.document
    with translation.override(ec.language):
        story = [
            Paragraph(escape(gettext("Consent to take part")), styles["Title"]),
            Paragraph(
                escape(
                    f"{ec.participant.trial.name} · {ec.participant.study_id} · "
                    + gettext("Consent form version %(version)s, approved %(date)s")
                    % {"version": doc.version, "date": doc.approved_on.isoformat()}
                ),
                styles["Normal"],
            ),
            Spacer(1, 4 * mm),
            *_paragraphs(doc.text_in(ec.language), styles["BodyText"]),
            Spacer(1, 4 * mm),
        ]
        for code, label in items:
            answer = gettext("Yes") if ec.answers.get(code) else gettext("No")
            story.append(Paragraph(escape(f"[{answer}] {label}"), styles["BodyText"]))
        story += [
            Spacer(1, 6 * mm),
            Paragraph(
                escape(gettext("Signed by typing the name: %(name)s") % {"name": ec.signed_name}),
                styles["Normal"],
            ),
            Paragraph(
                escape(
                    gettext("Signed at %(when)s (UTC)")
                    % {"when": ec.signed_at.strftime("%Y-%m-%d %H:%M:%S")}
                ),
                styles["Normal"],
            ),
        ]
    # Uncompressed and without a creation time: the same consent gives the same bytes,
    # and its text can be read back from the file.
    SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"Consent {ec.participant.study_id} {doc.version}",
        pageCompression=0,
        invariant=1,
    ).build(story)
    return out.getvalue()
