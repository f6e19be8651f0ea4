"""A trial as one CDISC ODM 1.3.2 file (``FileType="Snapshot"``), streamed.

* Study: one event per participant timepoint (patient and clinician, in protocol order; the
  weekly SMS timepoint repeats by week) plus an enrolment event, one form and item group per
  instrument version, items with data types, range checks and code lists, scores as derived
  items with their scoring rule as a method.
* AdminData: staff as numbered users (no names) and clinics as locations.
* ClinicalData: per participant (the study ID as SubjectKey, the clinic as SiteRef) the final,
  completed responses; each value carries an AuditRecord of its last change (who by number,
  when, the reason). A value missing with a reason is ``IsNull="Yes"`` with the reason code
  as a flag (code list ``CL.MISSING_REASON``). Free-text items are left out, as in every
  export. The condition is the arm, or its blinding letter in a blinded export.

Physiotherapists' own questionnaires are not subjects of the trial and are not in the file.
Rows are read in chunks of participants, so memory stays flat in the size of the trial.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from django.db.models import Q

from analysis.exports import (
    blinding_codes,
    cluster_labels,
    participant_timepoints,
    weekly_timepoints,
)
from enrolment.models import Clinic, Participant, Trial
from enrolment.national_id import age_on
from questionnaires.instruments import for_trial, get
from questionnaires.models import Response

from . import metadata as md
from . import oids
from .audit import AuditIndex

NS = "http://www.cdisc.org/ns/odm/v1.3"
CHUNK = 500
# The enrolment event's items: name, data type, code list, label.
ENROLMENT_ITEMS = (
    ("CLUSTER", "integer", oids.CLUSTER_CODES, "Cluster (allocation order)"),
    ("CONDITION", "text", oids.CONDITION_CODES, "Condition at recruitment"),
    ("ENROLMENT_DATE", "date", None, "Date of enrolment (baseline)"),
    ("STATUS", "text", oids.STATUS_CODES, "Participant status"),
    ("AGE", "integer", None, "Age at enrolment"),
)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def instruments_of(trial: Trial, timepoints) -> list:
    """Every instrument version the file describes: the protocol's current versions and
    every version a stored response was answered on."""
    pairs = {(c, for_trial(trial, c).version) for tp in timepoints for c in tp.instruments}
    pairs |= set(
        Response.objects.filter(participant__trial=trial, timepoint__in=timepoints)
        .values_list("instrument", "version")
        .distinct()
    )
    return [get(code, version) for code, version in sorted(pairs)]


def _events(trial: Trial, timepoints, instruments) -> list[md.Event]:
    weekly = weekly_timepoints(trial)
    by_code: dict[str, list] = {}
    for ins in instruments:
        by_code.setdefault(ins.code, []).append(ins.version)
    events = []
    for tp in timepoints:
        forms = tuple((code, v) for code in tp.instruments for v in by_code.get(code, ()))
        events.append(md.Event(tp.code, tp.label, forms, repeating=tp.id in weekly))
    return events


def _study(trial: Trial, events, instruments, blinded: bool) -> Iterator[str]:
    yield f"<Study OID={quoteattr(oids.study(trial.code))}>"
    yield (
        "<GlobalVariables>"
        f"<StudyName>{escape(trial.code)}</StudyName>"
        f"<StudyDescription>{escape(trial.name)}</StudyDescription>"
        f"<ProtocolName>{escape(trial.registration or trial.code)}</ProtocolName>"
        "</GlobalVariables>"
    )
    yield (
        '<BasicDefinitions><MeasurementUnit OID="MU.YEARS" Name="years">'
        f"<Symbol>{md.text('years')}</Symbol></MeasurementUnit></BasicDefinitions>"
    )
    yield (
        f"<MetaDataVersion OID={quoteattr(oids.metadata_version(trial.code))} "
        f"Name={quoteattr(f'{trial.code} as exported')}>"
    )
    refs = [
        f'<StudyEventRef StudyEventOID="{oids.ENROLMENT_EVENT}" OrderNumber="1" '
        'Mandatory="Yes"/>'
    ]
    refs += [
        f"<StudyEventRef StudyEventOID={quoteattr(oids.event(e.code))} OrderNumber=\"{n}\" "
        'Mandatory="No"/>'
        for n, e in enumerate(events, start=2)
    ]
    yield "<Protocol>" + "".join(refs) + "</Protocol>"
    yield (
        f'<StudyEventDef OID="{oids.ENROLMENT_EVENT}" Name="Enrolment" Repeating="No" '
        f'Type="Common"><FormRef FormOID="{oids.ENROLMENT_FORM}" Mandatory="Yes"/></StudyEventDef>'
    )
    for e in events:
        forms = "".join(
            f"<FormRef FormOID={quoteattr(oids.form(code, v))} Mandatory=\"No\"/>"
            for code, v in e.forms
        )
        repeating = "Yes" if e.repeating else "No"
        yield (
            f"<StudyEventDef OID={quoteattr(oids.event(e.code))} Name={quoteattr(e.name)} "
            f'Repeating="{repeating}" Type="Scheduled">{forms}</StudyEventDef>'
        )
    yield (
        f'<FormDef OID="{oids.ENROLMENT_FORM}" Name="Enrolment" Repeating="No">'
        f'<ItemGroupRef ItemGroupOID="{oids.ENROLMENT_GROUP}" Mandatory="Yes"/></FormDef>'
    )
    for ins in instruments:
        yield md.form_def(ins)
    refs = "".join(
        f'<ItemRef ItemOID="I.ENROLMENT.{name}" OrderNumber="{n}" Mandatory="Yes"/>'
        for n, (name, *_rest) in enumerate(ENROLMENT_ITEMS, start=1)
    )
    yield (
        f'<ItemGroupDef OID="{oids.ENROLMENT_GROUP}" Name="Enrolment" Repeating="No">{refs}'
        "</ItemGroupDef>"
    )
    for ins in instruments:
        yield md.item_group_def(ins)
    for name, kind, code_list, label in ENROLMENT_ITEMS:
        unit = '<MeasurementUnitRef MeasurementUnitOID="MU.YEARS"/>' if name == "AGE" else ""
        ref = f'<CodeListRef CodeListOID="{code_list}"/>' if code_list else ""
        yield (
            f'<ItemDef OID="I.ENROLMENT.{name}" Name="{name.lower()}" DataType="{kind}">'
            f"<Question>{md.text(label)}</Question>{unit}{ref}</ItemDef>"
        )
    for ins in instruments:
        yield from md.item_defs(ins)
    yield md.labelled_code_list(
        oids.CLUSTER_CODES, "Cluster", "integer", sorted(cluster_labels(trial).items())
    )
    if blinded:
        conditions = [(c, f"Blinded arm {c}") for c in sorted(blinding_codes(trial).values())]
    else:
        conditions = list(trial.arms.values_list("code", "label"))
    yield md.labelled_code_list(oids.CONDITION_CODES, "Condition", "text", conditions)
    yield md.labelled_code_list(
        oids.STATUS_CODES, "Status", "text", [(c, str(lab)) for c, lab in Participant.STATUSES]
    )
    yield md.missing_code_list()
    for ins in instruments:
        yield from md.code_lists(ins)
    for ins in instruments:
        yield from md.methods(ins)
    yield "</MetaDataVersion></Study>"


def _admin(trial: Trial, users: list[int]) -> Iterator[str]:
    yield "<AdminData>"
    for pk in users:
        yield f"<User OID={quoteattr(oids.user(pk))}/>"
    yield (
        f'<User OID="{oids.user(None)}"><DisplayName>Respondent or the system (no staff '
        "user)</DisplayName></User>"
    )
    mdv = (
        f"<MetaDataVersionRef StudyOID={quoteattr(oids.study(trial.code))} "
        f"MetaDataVersionOID={quoteattr(oids.metadata_version(trial.code))} "
        f'EffectiveDate="{(trial.recruitment_start or datetime.now(UTC).date()).isoformat()}"/>'
    )
    for code, name in Clinic.objects.filter(cluster__trial=trial).values_list("code", "name"):
        yield (
            f"<Location OID={quoteattr(oids.location(code))} Name={quoteattr(name)} "
            f'LocationType="Site">{mdv}</Location>'
        )
    yield "</AdminData>"


def _value(value) -> str:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def _item(oid: str, value, audit: str, missing_code: int | None = None) -> str:
    if missing_code is not None:
        return (
            f"<ItemData ItemOID={quoteattr(oid)} IsNull=\"Yes\">{audit}"
            f'<Annotation SeqNum="1"><Flag><FlagValue CodeListOID="{oids.MISSING_CODES}">'
            f"{missing_code}</FlagValue></Flag></Annotation></ItemData>"
        )
    return f"<ItemData ItemOID={quoteattr(oid)} Value={quoteattr(_value(value))}>{audit}</ItemData>"


def _form(response: dict, audits: AuditIndex, location: str) -> str:
    ins = get(response["instrument"], response["version"])
    parts = []
    answers, reasons = response["answers"] or {}, response["missing"] or {}
    for item in md.exported_items(ins):
        audit = audits.record(response["id"], item.id, location)
        if item.id in reasons:
            parts.append(_item(oids.item(ins.code, ins.version, item.id), None, audit,
                               reasons[item.id]))
        elif answers.get(item.id) not in (None, "", []):
            parts.append(_item(oids.item(ins.code, ins.version, item.id), answers[item.id], audit))
    for score in ins.scores:
        value = (response["scores"] or {}).get(score.name)
        if value is not None:
            parts.append(_item(md.score_oid(ins, score.name), value, ""))
    return (
        f"<FormData FormOID={quoteattr(oids.form(ins.code, ins.version))}>"
        f"<ItemGroupData ItemGroupOID={quoteattr(oids.item_group(ins.code, ins.version))}>"
        + "".join(parts)
        + "</ItemGroupData></FormData>"
    )


def _enrolment_form(p: dict, conditions: dict | None) -> str:
    dob = p["personal_details__date_of_birth"]
    values = {
        "CLUSTER": p["clinic__cluster__allocation_order"],
        "CONDITION": conditions[p["condition"]] if conditions else p["condition"],
        "ENROLMENT_DATE": p["enrolled_on"].isoformat(),
        "STATUS": p["status"],
        "AGE": age_on(dob, p["enrolled_on"]) if dob else None,
    }
    items = "".join(
        _item(f"I.ENROLMENT.{name}", values[name], "")
        for name, *_rest in ENROLMENT_ITEMS
        if values[name] is not None
    )
    return (
        f'<StudyEventData StudyEventOID="{oids.ENROLMENT_EVENT}">'
        f'<FormData FormOID="{oids.ENROLMENT_FORM}">'
        f'<ItemGroupData ItemGroupOID="{oids.ENROLMENT_GROUP}">{items}</ItemGroupData>'
        "</FormData></StudyEventData>"
    )


def _subjects(trial: Trial, timepoints, blinded: bool) -> Iterator[str]:
    conditions = blinding_codes(trial) if blinded else None
    order = {tp.id: n for n, tp in enumerate(timepoints)}
    codes = {tp.id: tp.code for tp in timepoints}
    participants = (
        Participant.objects.filter(trial=trial)
        .order_by("id")
        .values(
            "id", "study_id", "clinic__code", "clinic__cluster__allocation_order", "condition",
            "enrolled_on", "status", "personal_details__date_of_birth",
        )
    )
    chunk: list[dict] = []
    for p in participants.iterator(chunk_size=CHUNK):
        chunk.append(p)
        if len(chunk) == CHUNK:
            yield from _chunk(chunk, order, codes, conditions)
            chunk = []
    if chunk:
        yield from _chunk(chunk, order, codes, conditions)


def _chunk(participants, order, codes, conditions) -> Iterator[str]:
    ids = [p["id"] for p in participants]
    responses: dict[int, list[dict]] = {}
    rows = Response.objects.filter(
        participant_id__in=ids,
        timepoint_id__in=list(order),
        entry=Response.FINAL,
        completed_at__isnull=False,
    ).values(
        "id", "participant_id", "timepoint_id", "instrument", "version", "week", "answers",
        "missing", "scores",
    )
    for r in rows:
        responses.setdefault(r["participant_id"], []).append(r)
    audits = AuditIndex.for_responses([r["id"] for rs in responses.values() for r in rs])
    for p in participants:
        location = oids.location(p["clinic__code"])
        yield (
            f"<SubjectData SubjectKey={quoteattr(p['study_id'])}>"
            f"<SiteRef LocationOID={quoteattr(location)}/>"
        )
        yield _enrolment_form(p, conditions)
        events: dict[tuple, list[dict]] = {}
        for r in responses.get(p["id"], []):
            key = (order[r["timepoint_id"]], r["week"] or 0, r["timepoint_id"])
            events.setdefault(key, []).append(r)
        for (_n, week, tp_id), rs in sorted(events.items()):
            repeat = f' StudyEventRepeatKey="{week}"' if week else ""
            yield f"<StudyEventData StudyEventOID={quoteattr(oids.event(codes[tp_id]))}{repeat}>"
            for r in sorted(rs, key=lambda r: r["instrument"]):
                yield _form(r, audits, location)
            yield "</StudyEventData>"
        yield "</SubjectData>"


def odm_chunks(trial: Trial, blinded: bool = False, now: datetime | None = None) -> Iterator[str]:
    """The ODM file of ``trial`` as a stream of text pieces."""
    now = now or datetime.now(UTC)
    timepoints = participant_timepoints(trial)
    instruments = instruments_of(trial, timepoints)
    events = _events(trial, timepoints, instruments)
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield (
        f'<ODM xmlns="{NS}" ODMVersion="1.3.2" FileType="Snapshot" Granularity="All" '
        f"FileOID={quoteattr(f'{oids.study(trial.code)}.{now:%Y%m%dT%H%M%S}')} "
        f'CreationDateTime="{_stamp(now)}" SourceSystem="trialsite">'
    )
    yield from _study(trial, events, instruments, blinded)
    users = AuditIndex.users_of(
        Q(participant__trial=trial, timepoint__in=timepoints, entry=Response.FINAL)
    )
    yield from _admin(trial, users)
    yield (
        f"<ClinicalData StudyOID={quoteattr(oids.study(trial.code))} "
        f"MetaDataVersionOID={quoteattr(oids.metadata_version(trial.code))}>"
    )
    yield from _subjects(trial, timepoints, blinded)
    yield "</ClinicalData></ODM>\n"


def write_odm(trial: Trial, path, blinded: bool = False) -> int:
    """Write the file; returns its size in bytes."""
    size = 0
    with open(path, "w", encoding="utf-8") as out:
        for piece in odm_chunks(trial, blinded):
            out.write(piece)
            size += len(piece.encode())
    return size
