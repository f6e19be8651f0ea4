"""The subject access data as a PDF (reportlab), with the page's headings in the
participant's language. Built from :func:`privacy.subject_access.collect`'s data only."""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from django.utils import translation
from django.utils.translation import gettext
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.25, "#999999"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
    ]
)


def _table(rows: list[list[str]], widths: list[float], style) -> Table:
    cells = [[Paragraph(escape(str(c if c is not None else "")), style) for c in r] for r in rows]
    table = Table(cells, colWidths=[w * mm for w in widths], repeatRows=0)
    table.setStyle(GRID)
    return table


def render_pdf(data: dict) -> bytes:
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    out = BytesIO()
    with translation.override(data["language"]):
        story = [
            Paragraph(escape(gettext("Your data in the trial")), styles["Title"]),
            Paragraph(escape(f"{data['trial']['name']} · {data['study_id']}"), styles["Normal"]),
            Spacer(1, 4 * mm),
        ]

        def heading(text: str) -> None:
            story.append(Paragraph(escape(gettext(text)), styles["Heading2"]))

        heading("Personal details")
        d = data["personal_details"] or {}
        story.append(
            _table(
                [
                    [gettext("Name"), d.get("name")],
                    [gettext("National ID number"), d.get("national_id")],
                    [gettext("Date of birth"), d.get("date_of_birth")],
                    [gettext("Email"), d.get("email")],
                    [gettext("Mobile"), d.get("mobile")],
                ],
                [45, 125],
                small,
            )
        )
        heading("Participation")
        p = data["participation"]
        consent = data["consent"] or {}
        story.append(
            _table(
                [
                    [gettext("Clinic"), p["clinic"]],
                    [gettext("Enrolled"), p["enrolled_on"]],
                    [gettext("Status"), p["status"]],
                    [gettext("Consent"), consent.get("consented_on")],
                ],
                [45, 125],
                small,
            )
        )
        heading("Your answers")
        for q in data["questionnaires"]:
            title = f"{q['instrument']} · {q['timepoint']}" + (
                f" · {q['week']}" if q["week"] else ""
            )
            story.append(Paragraph(escape(title), styles["Heading4"]))
            rows = [[a["question"], a["answer_text"]] for a in q["answers"]]
            rows += [[s["label"], f"{s['value']} {s['value_text']}".strip()] for s in q["scores"]]
            if rows:
                story.append(_table(rows, [120, 50], small))
        heading("Questionnaires sent to you")
        rows = [
            [
                c["timepoint"],
                c["due_on"],
                c["status"],
                "; ".join(
                    f"{m['kind']} {m['to']} {m['sent_at'] or m['status']}" for m in c["emails"]
                ),
            ]
            for c in data["contacts"]
        ]
        if rows:
            story.append(_table(rows, [35, 25, 25, 85], small))
        sms = data["sms"]
        if sms["sent"] or sms["replies"]:
            heading("SMS")
            rows = [[m["sent_at"] or m["status"], m["to"], m["text"]] for m in sms["sent"]]
            rows += [[r["received_at"], "", r["text"]] for r in sms["replies"]]
            story.append(_table(rows, [40, 30, 100], small))
    # Uncompressed: a few kilobytes more, and its text can be searched (and checked).
    doc = SimpleDocTemplate(out, pagesize=A4, title=data["study_id"], pageCompression=0)
    doc.build(story)
    return out.getvalue()
