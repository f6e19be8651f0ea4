"""What Python asks of a trial by role, never by code: the tags of the protocol file.

A protocol file names its timepoints and chooses its instruments; the features that need
one particular timepoint, instrument or item (the CRPE-tool's first and final visit, the
physiotherapists' workshop timepoints, the baseline risk group, DIBQ's "useful" item) find
it by a tag written next to it in the file::

    [[timepoints]]
    code = "crpe-final"
    tags = ["final-visit"]

    [[instruments]]
    code = "dibq"
    item_roles = { model-useful = "q24" }

so renaming a code in the file renames nothing in Python. Tags are checked when the file
is read (:func:`problems`): an unknown tag, or one given to two timepoints, is refused
with the file and the key named.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import catalogue

# Each tag Python asks for, and what asks for it. A tag marks at most one timepoint.
TIMEPOINT_TAGS: dict[str, str] = {
    "first-visit": "the CRPE-tool at the first clinical visit (its grades are shown at the "
    "final one)",
    "final-visit": "the CRPE-tool at the final visit (monitoring counts it missing once the "
    "final visit is recorded)",
    "workshop-before": "physiotherapists before the workshop (analysis timepoint 'before')",
    "workshop-after": "physiotherapists directly after the workshop (analysis timepoint 'after')",
    "workshop-3m": "physiotherapists 3 months after the workshop (analysis timepoint '3m')",
    "workshop-12m": "physiotherapists 12 months after the workshop (analysis timepoint '12m')",
}
# A tag marks at most one instrument of the trial.
INSTRUMENT_TAGS: dict[str, str] = {
    "risk-group": "its 'risk_group' score at baseline is the export's sbst_risk_group",
}
# Roles of single items: [[instruments]] item_roles = { role = "item id" }.
ITEM_ROLES: dict[str, str] = {
    "model-useful": "'the model of care will be useful' (1-5), the internal pilot's "
    "progression question, analysed as dibq_useful",
}


def problems(spec) -> list[str]:
    """What is wrong with the tags of a parsed protocol (empty when nothing is)."""
    out: list[str] = []
    holders: dict[str, list[str]] = {}
    for i, tp in enumerate(spec.timepoints):
        for tag in tp.tags:
            if tag not in TIMEPOINT_TAGS:
                out.append(
                    f"timepoints[{i}].tags: unknown tag {tag!r}; known: {sorted(TIMEPOINT_TAGS)}"
                )
            holders.setdefault(tag, []).append(tp.code)
    listed = {code for tp in spec.timepoints for code in tp.instruments}
    for i, ins in enumerate(spec.instruments):
        where = f"instruments[{i}]"
        if ins.code not in listed:
            out.append(f"{where}.code: {ins.code!r} is not listed at any timepoint")
        for tag in ins.tags:
            if tag not in INSTRUMENT_TAGS:
                out.append(f"{where}.tags: unknown tag {tag!r}; known: {sorted(INSTRUMENT_TAGS)}")
            holders.setdefault(tag, []).append(ins.code)
        items = _item_ids(ins.code)
        for role, item_id in ins.item_roles.items():
            if role not in ITEM_ROLES:
                known = sorted(ITEM_ROLES)
                out.append(f"{where}.item_roles: unknown role {role!r}; known: {known}")
            elif items is not None and item_id not in items:
                out.append(f"{where}.item_roles: {item_id!r} is not an item of {ins.code}")
    out += [
        f"tag {tag!r} is given to {len(codes)} entries ({', '.join(codes)}); it marks one"
        for tag, codes in holders.items()
        if len(codes) > 1
    ]
    return out


def _item_ids(code: str) -> set[str] | None:
    try:
        return {item.id for item in catalogue.get(code).items}
    except KeyError:
        return None  # an unknown instrument is reported by the timepoints that list it


def stored(spec) -> dict:
    """The [[instruments]] entries as kept on the trial: {code: {"tags": [...], "items": {...}}}."""
    return {i.code: {"tags": list(i.tags), "items": dict(i.item_roles)} for i in spec.instruments}


def timepoint(trial, tag: str):
    """The trial's timepoint tagged ``tag``, or None."""
    return next((tp for tp in trial.timepoints.all() if tag in (tp.tags or [])), None)


def timepoint_code(trial, tag: str) -> str | None:
    tp = timepoint(trial, tag)
    return tp.code if tp else None


def codes_for(trial, names: Mapping[str, str]) -> dict[str, str]:
    """{timepoint code: name} for the timepoints tagged with a key of ``names`` (tag -> name)."""
    return {tp.code: names[t] for tp in trial.timepoints.all() for t in tp.tags or [] if t in names}


def instrument(trial, tag: str) -> str | None:
    """The code of the trial's instrument tagged ``tag``, or None."""
    return next(
        (c for c, v in (trial.instrument_tags or {}).items() if tag in v.get("tags", ())), None
    )


def item(trial, instrument_code: str, role: str) -> str | None:
    """The id of ``instrument_code``'s item that plays ``role`` in this trial, or None."""
    return (trial.instrument_tags or {}).get(instrument_code, {}).get("items", {}).get(role)
