"""The implementation and process measures for the statistician, pseudonymised: the
workshop attendance per physiotherapist (study code, never a name), the physiotherapists'
own answers item by item (the background information has no score, so the analysis
dataset does not carry it), the SWOT analyses per clinic (dates only, not the documents)
and the interview selection per study ID. One CSV each, with a codebook line per column
(:data:`CODEBOOK`)."""

from __future__ import annotations

import csv
import io

from enrolment.models import Timepoint
from implementation.models import Attendance, Interview, SwotAnalysis
from questionnaires.models import Response


def _yes_no(value: bool | None) -> str:
    return {True: "1", False: "0", None: ""}[value]


def _date(value) -> str:
    return value.isoformat() if value else ""


def workshop_rows(trial) -> list[list[str]]:
    rows = (
        Attendance.objects.filter(workshop__cluster__trial=trial)
        .select_related("workshop__cluster", "physiotherapist__clinic")
        .order_by("physiotherapist__study_code")
    )
    return [
        [
            a.physiotherapist.study_code,
            a.physiotherapist.clinic.code,
            a.workshop.cluster.code,
            str(a.workshop.pk),
            _date(a.workshop.day1),
            _date(a.workshop.day2),
            str(a.workshop.hours),
            _yes_no(a.day1),
            _yes_no(a.day2),
            _date(a.diploma_on),
        ]
        for a in rows
    ]


def physio_item_rows(trial) -> list[list[str]]:
    """Long shape: one row per physiotherapist, timepoint, instrument and item answered."""
    rows = (
        Response.objects.filter(
            physiotherapist__clinic__cluster__trial=trial,
            timepoint__respondent=Timepoint.PHYSIOTHERAPIST,
            entry=Response.FINAL,
            completed_at__isnull=False,
        )
        .order_by("physiotherapist__study_code", "timepoint__order", "instrument")
        .values_list(
            "physiotherapist__study_code",
            "timepoint__code",
            "instrument",
            "version",
            "completed_at",
            "answers",
        )
    )
    return [
        [code, tp, instrument, str(version), _date(done.date()), item, str(value)]
        for code, tp, instrument, version, done, answers in rows
        for item, value in sorted((answers or {}).items())
    ]


def swot_rows(trial) -> list[list[str]]:
    rows = SwotAnalysis.objects.filter(clinic__cluster__trial=trial).select_related("clinic")
    return [[s.clinic.code, s.clinic.cluster.code, _date(s.held_on)] for s in rows]


def interview_rows(trial) -> list[list[str]]:
    rows = (
        Interview.objects.filter(participant__trial=trial)
        .select_related("participant__clinic")
        .order_by("participant__study_id")
    )
    return [
        [
            i.participant.study_id,
            i.participant.clinic.code,
            _date(i.selected_on),
            _date(i.asked_on),
            i.answer,
            _date(i.answered_on),
            _date(i.interviewed_on),
        ]
        for i in rows
    ]


CODEBOOK = {
    "workshops": (
        workshop_rows,
        [
            ("physio_code", "Physiotherapist study code"),
            ("clinic", "Clinic code"),
            ("cluster", "Cluster code"),
            ("workshop", "Workshop number"),
            ("day1", "Date of workshop day 1"),
            ("day2", "Date of workshop day 2"),
            ("hours", "Length of the workshop in hours"),
            ("present_day1", "Present on day 1 (1 yes, 0 no, empty not recorded)"),
            ("present_day2", "Present on day 2 (1 yes, 0 no, empty not recorded)"),
            ("diploma_on", "Date the CME diploma was issued (empty: none)"),
        ],
    ),
    "physio_items": (
        physio_item_rows,
        [
            ("physio_code", "Physiotherapist study code"),
            (
                "timepoint",
                "Timepoint code of the protocol file (pt-before: workshop day 1, "
                "pt-after: directly after the workshop, day 2)",
            ),
            ("instrument", "Instrument code"),
            ("version", "Instrument version answered"),
            ("completed_on", "Date the questionnaire was completed (UTC)"),
            ("item", "Item id (the instrument's codebook)"),
            ("value", "Answer code as stored"),
        ],
    ),
    "swot": (
        swot_rows,
        [
            ("clinic", "Clinic code"),
            ("cluster", "Cluster code"),
            ("held_on", "Date the SWOT analysis was held"),
        ],
    ),
    "interviews": (
        interview_rows,
        [
            ("study_id", "Participant study ID"),
            ("clinic", "Clinic code"),
            ("selected_on", "Date selected for an interview"),
            ("asked_on", "Date asked"),
            ("answer", "Answer (yes consented, no declined, empty not yet)"),
            ("answered_on", "Date of the answer"),
            ("interviewed_on", "Date interviewed"),
        ],
    ),
}


def csv_of(trial, what: str) -> str:
    rows_of, columns = CODEBOOK[what]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name for name, _label in columns])
    writer.writerows(rows_of(trial))
    return out.getvalue()


def codebook_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["file", "column", "label"])
    for what, (_rows, columns) in CODEBOOK.items():
        writer.writerows([f"{what}.csv", name, label] for name, label in columns)
    return out.getvalue()
