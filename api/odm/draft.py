"""The metadata half of an ODM file read back as a draft protocol file for review.

Events become timepoints, forms become the timepoint's instruments where an instrument
definition matches (our own OIDs ``F.<CODE>.V<n>``, or a form named like a known
instrument's code or name); a form with no matching definition is listed in a comment, never
dropped. What ODM cannot say (design, clusters, time zone, the timepoints' offsets and
windows) is left for the reviewer, marked ``# review``. Pure: XML text in, TOML text out.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from questionnaires.instruments import all_instruments

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
_OWN_FORM = re.compile(r"^F\.(?P<code>[A-Z0-9_.-]+)\.V(?P<version>\d+)$")
_SLUG = re.compile(r"[^a-z0-9-]+")


class OdmError(ValueError):
    """The file is not ODM 1.3 metadata this reader understands."""


@dataclass
class DraftTimepoint:
    code: str
    label: str
    instruments: list[str] = field(default_factory=list)
    unknown_forms: list[str] = field(default_factory=list)
    repeating: bool = False


@dataclass
class Draft:
    code: str
    name: str
    timepoints: list[DraftTimepoint]


def _known() -> dict[str, str]:
    """Lower-cased code or name -> instrument code."""
    known = {}
    for ins in all_instruments():
        known[ins.code.lower()] = ins.code
        known[ins.name.lower()] = ins.code
    return known


def _instrument_for(form_oid: str, form_name: str, known: dict[str, str]) -> str | None:
    own = _OWN_FORM.match(form_oid)
    if own and own["code"].lower() in known:
        return known[own["code"].lower()]
    name = re.sub(r"\s*\(version \d+\)$", "", form_name or "").strip().lower()
    return known.get(name) or known.get(form_oid.lower())


def read_draft(xml_text: str | bytes) -> Draft:
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise OdmError(f"not well-formed XML: {exc}") from exc
    study = root.find("odm:Study", NS)
    mdv = study.find("odm:MetaDataVersion", NS) if study is not None else None
    if mdv is None:
        raise OdmError("no Study/MetaDataVersion in the file (is it ODM 1.3 metadata?)")
    name = (study.findtext("odm:GlobalVariables/odm:StudyName", default="", namespaces=NS)
            or study.get("OID", "trial"))
    description = study.findtext(
        "odm:GlobalVariables/odm:StudyDescription", default=name, namespaces=NS
    )
    forms = {f.get("OID"): f.get("Name", "") for f in mdv.findall("odm:FormDef", NS)}
    events = {e.get("OID"): e for e in mdv.findall("odm:StudyEventDef", NS)}
    order = [r.get("StudyEventOID") for r in mdv.findall("odm:Protocol/odm:StudyEventRef", NS)]
    order += [oid for oid in events if oid not in order]
    known = _known()
    timepoints = []
    for oid in order:
        event = events.get(oid)
        if event is None or oid == "SE.ENROLMENT":
            continue
        code = _SLUG.sub("-", re.sub(r"^SE\.", "", oid).lower()).strip("-")
        repeating = event.get("Repeating") == "Yes"
        tp = DraftTimepoint(code, event.get("Name", code), repeating=repeating)
        for ref in event.findall("odm:FormRef", NS):
            form_oid = ref.get("FormOID")
            instrument = _instrument_for(form_oid, forms.get(form_oid, ""), known)
            if instrument and instrument not in tp.instruments:
                tp.instruments.append(instrument)
            elif not instrument:
                tp.unknown_forms.append(f"{form_oid} {forms.get(form_oid, '')!r}")
        timepoints.append(tp)
    code = _SLUG.sub("-", name.lower()).strip("-") or "trial"
    return Draft(code, description, timepoints)


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def draft_toml(draft: Draft, source: str = "") -> str:
    lines = [
        f"# Draft protocol file read from {source or 'an ODM file'}: review every '# review'",
        "# line before `manage.py load_protocol`. ODM says nothing about the design, the",
        "# clusters or the schedule's offsets and windows.",
        "",
        "[trial]",
        f"code = {_s(draft.code)}",
        f"name = {_s(draft.name)}",
        'design = "individual"                    # review',
        'time_zone = "Europe/Stockholm"           # review',
        'languages = ["en"]                       # review',
        'default_language = "en"',
        "",
    ]
    for tp in draft.timepoints:
        lines += [
            "[[timepoints]]",
            f"code = {_s(tp.code)}",
            f"label = {_s(tp.label)}",
            'respondent = "patient"                  # review',
            'anchor = "enrolment"                    # review',
            "offset = 0                              # review: months after enrolment",
            "window_after_days = 14                  # review",
            "instruments = [" + ", ".join(_s(i) for i in tp.instruments) + "]",
        ]
        if tp.repeating:
            lines.append("# review: repeating in ODM (e.g. weekly); see the [sms] section")
        for form in tp.unknown_forms:
            lines.append(f"# review: form {form} matches no instrument definition")
        lines.append("")
    return "\n".join(lines)
