"""A REDCap data dictionary (the CSV of REDCap's "Data Dictionary" upload) of a trial's
instruments, so that a group moving from REDCap recognises its metadata: one form per
instrument version, one field per item, choices as "code, label | ...". Free-text items are
notes fields. Pure: instruments in, rows out."""

from __future__ import annotations

import csv
import io
import re

from questionnaires.instruments import base, for_trial, get

COLUMNS = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]
_NAME = re.compile(r"[^a-z0-9_]")


def field_name(instrument: str, item_id: str) -> str:
    """REDCap's rule: lower case letters, digits and underscores, starting with a letter."""
    return _NAME.sub("_", f"{instrument}_{item_id}".lower())


def _choices(item: base.Item) -> str:
    if item.kind in (base.CHOICE, base.MULTI):
        pairs = [(c.code, c.label) for c in item.choices]
    elif item.kind == base.SCALE:
        anchors = item.anchors or ("", "")
        pairs = [
            (v, f"{v} {anchors[0]}" if v == item.min and anchors[0]
             else f"{v} {anchors[1]}" if v == item.max and anchors[1] else str(v))
            for v in range(item.min, item.max + 1)
        ]
    else:
        return ""
    return " | ".join(f"{code}, {label.replace('|', '/')}" for code, label in pairs)


def _field(ins: base.Instrument, form: str, item: base.Item, section: str) -> list[str]:
    kinds = {
        base.SCALE: "radio", base.CHOICE: "radio", base.MULTI: "checkbox",
        base.YESNO: "yesno", base.DATE: "text", base.NUMBER: "text", base.TEXT: "notes",
    }
    validation, low, high = "", "", ""
    if item.kind == base.DATE:
        validation = "date_ymd"
    elif item.kind == base.NUMBER:
        validation, low, high = "integer", str(item.min), str(item.max)
    row = dict.fromkeys(COLUMNS, "")
    row.update({
        "Variable / Field Name": field_name(ins.code, item.id),
        "Form Name": form,
        "Section Header": section,
        "Field Type": kinds[item.kind],
        "Field Label": item.text,
        "Choices, Calculations, OR Slider Labels": _choices(item),
        "Field Note": item.help,
        "Text Validation Type OR Show Slider Number": validation,
        "Text Validation Min": low,
        "Text Validation Max": high,
        "Required Field?": "y" if item.required else "",
        "Field Annotation": f"@trialsite {ins.code} v{ins.version} item {item.id}",
    })
    return [row[c] for c in COLUMNS]


def dictionary_rows(instrument_versions: list[tuple[str, int]]) -> list[list[str]]:
    rows = []
    for n, (code, version) in enumerate(instrument_versions):
        ins = get(code, version)
        form = _NAME.sub("_", f"{code}_v{version}".lower())
        if n == 0:
            record = dict.fromkeys(COLUMNS, "")
            record.update({
                "Variable / Field Name": "record_id", "Form Name": form, "Field Type": "text",
                "Field Label": "Study ID",
            })
            rows.append([record[c] for c in COLUMNS])
        section = ""
        for item in ins.items:
            header = item.section if item.section and item.section != section else ""
            section = item.section or section
            rows.append(_field(ins, form, item, header))
    return rows


def trial_instruments(trial) -> list[tuple[str, int]]:
    """Every instrument of the trial's timepoints (current versions), in protocol order."""
    seen: list[tuple[str, int]] = []
    for tp in trial.timepoints.order_by("respondent", "order"):
        for code in tp.instruments:
            pair = (code, for_trial(trial, code).version)
            if pair not in seen:
                seen.append(pair)
    return seen


def dictionary_csv(trial) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(dictionary_rows(trial_instruments(trial)))
    return out.getvalue()
