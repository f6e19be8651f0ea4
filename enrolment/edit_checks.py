"""Edit checks declared in a protocol file (``[[checks]]``), validated when it loads.

Enrolment only validates and stores them (``Trial.edit_checks``, a list of plain dicts);
data management, an app above this one, runs them and opens queries. Validation knows
the trial's timepoints and the instrument registry, so a check that names an unknown
timepoint, instrument or item stops the load with the file, the key and the problem.

A value is named by a reference:

- ``enrolment.<field>``: ``date_of_birth``, ``enrolled_on``, ``consented_on``,
  ``final_visit_on`` (dates);
- ``<timepoint>.<instrument>.<item>``: an item of the final response (a number, or a
  date for a date item);
- ``<timepoint>.<instrument>.completed``: the day the response was completed.

Kinds: ``range`` (value, min and/or max), ``required_if`` (value is answered when
``when`` is answered, or has one of ``equals``), ``compare`` (left op right),
``window`` (the response of ``timepoint``/``instrument`` completed within the
timepoint's window) and ``birth_date_matches_national_id`` (the date of birth agrees
with the Swedish personnummer / Danish CPR number).
"""

from __future__ import annotations

import re
from typing import Any

from . import catalogue

ENROLMENT_FIELDS = ("date_of_birth", "enrolled_on", "consented_on", "final_visit_on")
KINDS = ("range", "required_if", "compare", "window", "birth_date_matches_national_id")
OPERATORS = ("<", "<=", "==", "!=", ">=", ">")
COMPLETED = "completed"
CODE = re.compile(r"^[a-z0-9_-]{1,60}$")
NUMERIC_KINDS = ("scale", "number", "choice", "yesno")

_KEYS = {
    "range": {"value"},
    "required_if": {"value", "when"},
    "compare": {"left", "op", "right"},
    "window": {"timepoint", "instrument"},
    "birth_date_matches_national_id": set(),
}
_OPTIONAL = {
    "range": {"min", "max"},
    "required_if": {"equals"},
    "compare": set(),
    "window": set(),
    "birth_date_matches_national_id": set(),
}
_COMMON = {"code", "kind", "message"}


def _timepoints(spec) -> dict:
    return {t.code: t for t in spec.timepoints if t.respondent in ("patient", "clinician")}


def value_kind(ref: str, spec) -> tuple[str | None, str | None]:
    """("date" | "number" | "text", None) for a valid reference, or (None, problem)."""
    get = catalogue.get
    parts = ref.split(".") if isinstance(ref, str) else []
    if len(parts) == 2 and parts[0] == "enrolment":
        if parts[1] not in ENROLMENT_FIELDS:
            return None, f"unknown enrolment field {parts[1]!r}; known: {list(ENROLMENT_FIELDS)}"
        return "date", None
    if len(parts) != 3:
        return None, (
            f"{ref!r} is not a value: use enrolment.<field> or <timepoint>.<instrument>.<item>"
        )
    tp_code, instrument, item_id = parts
    timepoint = _timepoints(spec).get(tp_code)
    if timepoint is None:
        return None, f"unknown timepoint {tp_code!r} (a patient or clinician timepoint)"
    if instrument not in timepoint.instruments:
        return None, f"instrument {instrument!r} is not asked at timepoint {tp_code!r}"
    if item_id == COMPLETED:
        return "date", None
    # the version the protocol pins, whose items the trial's forms have
    definition = get(instrument, (getattr(spec, "instrument_versions", None) or {}).get(instrument))
    try:
        item = definition.item(item_id)
    except KeyError:
        return None, (
            f"unknown item {item_id!r} of {instrument}; known: {list(definition.item_ids)}"
        )
    if item.kind == "date":
        return "date", None
    if item.kind in NUMERIC_KINDS:
        return "number", None
    return "text", None


MESSAGE_LANGUAGES = ("en", "sv", "da", "nb")


def _message_problem(message: Any) -> str | None:
    if isinstance(message, str) and message.strip():
        return None
    if isinstance(message, dict):
        unknown = sorted(set(message) - set(MESSAGE_LANGUAGES))
        if unknown:
            return f"unknown language(s) {unknown}; use {list(MESSAGE_LANGUAGES)}"
        if not all(isinstance(v, str) and v.strip() for v in message.values()):
            return "every language's text must be a non-empty string"
        if "en" not in message:
            return "give the English text (en) too: the query log and exports use it"
        return None
    return "required: the text the query shows (a string, or a table per language)"


def message_in(check: dict, language: str | None) -> str:
    """The check's message in ``language`` (a protocol file may give one text, or one per
    language: ``message = {en = "...", sv = "..."}``), else in English."""
    message = check["message"]
    if isinstance(message, str):
        return message
    return message.get(language or "en") or message["en"]


def _check_one(check: Any, spec) -> list[tuple[str, str]]:
    """(key, problem) pairs for one check."""
    if not isinstance(check, dict):
        return [("", "a check is a table (code, kind, message, ...)")]
    problems: list[tuple[str, str]] = []
    code, kind = check.get("code"), check.get("kind")
    if not isinstance(code, str) or not CODE.match(code):
        problems.append(("code", "required: lower-case letters, digits, - and _"))
    if kind not in KINDS:
        return problems + [("kind", f"unknown kind {kind!r}; use one of {list(KINDS)}")]
    problem = _message_problem(check.get("message"))
    if problem:
        problems.append(("message", problem))
    allowed = _COMMON | _KEYS[kind] | _OPTIONAL[kind]
    for key in sorted(set(check) - allowed):
        problems.append((key, f"unknown key for a {kind} check (check its spelling)"))
    for key in sorted(_KEYS[kind] - set(check)):
        problems.append((key, f"required for a {kind} check"))
    if problems:
        return problems
    return problems + _KIND_RULES[kind](check, spec)


def _range(check, spec):
    out = []
    kind, problem = value_kind(check["value"], spec)
    if problem:
        return [("value", problem)]
    if kind != "number":
        out.append(("value", "a range check needs a numeric item"))
    bounds = [check.get("min"), check.get("max")]
    if bounds == [None, None]:
        out.append(("min", "give min, max or both"))
    for key, bound in zip(("min", "max"), bounds, strict=True):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
            out.append((key, "must be a number"))
    if not out and None not in bounds and bounds[0] > bounds[1]:
        out.append(("min", f"{bounds[0]} is above max {bounds[1]}"))
    return out


def _required_if(check, spec):
    out = []
    for key in ("value", "when"):
        _, problem = value_kind(check[key], spec)
        if problem:
            out.append((key, problem))
        elif check[key].startswith("enrolment.") or check[key].endswith("." + COMPLETED):
            out.append((key, "must be a questionnaire item"))
    if not out and check["value"].split(".")[:2] != check["when"].split(".")[:2]:
        out.append(("when", "must be an item of the same response as value"))
    equals = check.get("equals")
    if equals is not None and not (
        isinstance(equals, list) and all(isinstance(v, int) for v in equals)
    ):
        out.append(("equals", "must be a list of codes (whole numbers)"))
    return out


def _compare(check, spec):
    out = []
    kinds = []
    for key in ("left", "right"):
        kind, problem = value_kind(check[key], spec)
        if problem:
            out.append((key, problem))
        kinds.append(kind)
    if check["op"] not in OPERATORS:
        out.append(("op", f"unknown operator {check['op']!r}; use one of {list(OPERATORS)}"))
    if not out and (kinds[0] != kinds[1] or "text" in kinds):
        out.append(("right", f"compares a {kinds[0]} with a {kinds[1]}"))
    return out


def _window(check, spec):
    timepoint = _timepoints(spec).get(check["timepoint"])
    if timepoint is None:
        return [("timepoint", f"unknown patient timepoint {check['timepoint']!r}")]
    if timepoint.anchor != "enrolment":
        return [("timepoint", "only timepoints anchored at enrolment have a window")]
    if check["instrument"] not in timepoint.instruments:
        return [("instrument", f"{check['instrument']!r} is not asked at {check['timepoint']!r}")]
    return []


def _birth_date(check, spec):
    from .national_id import CHECKED
    from .phone import region_of

    region = region_of(spec.trial.time_zone)
    if region not in CHECKED:
        return [("kind", f"the trial's region {region!r} has no national ID with a birth date")]
    return []


_KIND_RULES = {
    "range": _range,
    "required_if": _required_if,
    "compare": _compare,
    "window": _window,
    "birth_date_matches_national_id": _birth_date,
}


def problems(spec) -> list[str]:
    """Every problem of the spec's checks as ``checks[i].key: problem`` lines."""
    out = []
    seen: set[str] = set()
    for index, check in enumerate(spec.checks):
        for key, problem in _check_one(check, spec):
            out.append(f"checks[{index}]{'.' + key if key else ''}: {problem}")
        code = check.get("code") if isinstance(check, dict) else None
        if code in seen:
            out.append(f"checks[{index}].code: duplicate code {code!r}")
        seen.add(code)
    return out


def stored(spec) -> list[dict]:
    """The checks as stored on the trial (plain data for data management to run)."""
    return [dict(check) for check in spec.checks]
