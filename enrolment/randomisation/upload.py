"""Reading a list the coordinator uploads (as REDCap allows): the CSV's header and every row
checked, every problem collected with its line number into one :class:`ListError`
(unknown arms or strata, whole numbers, gaps in a stratum's sequence).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from .generate import ARM, OPTIONAL_COLUMNS, SEQUENCE, Slot, _check_arms


class ListError(ValueError):
    """An uploaded list has problems: ``errors`` holds every (line number, message)."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        details = "; ".join(f"line {line}: {msg}" for line, msg in errors)
        super().__init__(f"{len(errors)} problem(s) in the randomisation list: {details}")


# --- an uploaded list --------------------------------------------------------------------

_WHOLE_NUMBER = re.compile(r"[0-9]+")


def parse_uploaded_list(
    rows: Iterable[Mapping[str, str]],
    arms: Sequence[str],
    strata_keys: Sequence[str],
    *,
    strata: Iterable[tuple[str, ...]] | None = None,
    first_line: int = 2,
) -> list[Slot]:
    """Read a coordinator's list: columns ``strata_keys``..., ``sequence``, ``arm``
    (and optionally ``block``, ``block_size``), one row per slot, e.g. from
    :class:`csv.DictReader`.

    Every row is checked and every problem reported at once, as a :class:`ListError`
    with line numbers as the spreadsheet shows them (header on ``first_line - 1``).
    Within a stratum the sequence numbers must run 1, 2, 3... without gaps or repeats.
    If ``strata`` is given, every stratum must be one of them and have rows.
    Returns the slots by stratum (in order of first appearance), then sequence.
    """
    _check_arms(arms, None)
    strata_keys = list(strata_keys)
    if len(set(strata_keys)) != len(strata_keys):
        raise ValueError(f"strata key listed more than once: {strata_keys}")
    known_strata = None if strata is None else {tuple(s) for s in strata}
    required = [*strata_keys, SEQUENCE, ARM]
    header_line = first_line - 1
    errors: list[tuple[int, str]] = []
    slots: list[Slot] = []
    lines: dict[tuple[tuple[str, ...], int], int] = {}  # (stratum, sequence) -> line
    seen_strata: set[tuple[str, ...]] = set()  # also from rows with errors

    for line, row in enumerate(rows, start=first_line):
        if line == first_line:
            header_errors = _check_header(row, required)
            if header_errors:
                raise ListError([(header_line, msg) for msg in header_errors])
        seen_strata.add(tuple(str(row.get(k) or "").strip() for k in strata_keys))
        slot, row_errors = _parse_row(row, arms, strata_keys, known_strata)
        errors.extend((line, msg) for msg in row_errors)
        if slot is None:
            continue
        key = (slot.stratum, slot.sequence)
        if key in lines:
            errors.append(
                (
                    line,
                    f"{_label(slot.stratum, strata_keys)}: sequence {slot.sequence} "
                    f"is already on line {lines[key]}",
                )
            )
            continue
        lines[key] = line
        slots.append(slot)

    if not lines and not errors:
        errors.append((header_line, "the list has no rows"))
    errors.extend(_sequence_gaps(lines, strata_keys))
    if known_strata is not None and seen_strata:
        for stratum in sorted(known_strata - seen_strata):
            errors.append((header_line, f"no rows for {_label(stratum, strata_keys)}"))
    if errors:
        raise ListError(sorted(errors, key=lambda e: e[0]))

    first_seen: dict[tuple[str, ...], int] = {}
    for slot in slots:
        first_seen.setdefault(slot.stratum, len(first_seen))
    return sorted(slots, key=lambda s: (first_seen[s.stratum], s.sequence))


def _check_header(row: Mapping[str, str], required: list[str]) -> list[str]:
    columns = [c for c in row if c is not None]
    errors = [f"column '{c}' is missing" for c in required if c not in columns]
    allowed = {*required, *OPTIONAL_COLUMNS}
    errors += [f"unknown column '{c}'" for c in columns if c not in allowed]
    return errors


def _parse_row(
    row: Mapping[str, str],
    arms: Sequence[str],
    strata_keys: list[str],
    known_strata: set[tuple[str, ...]] | None,
) -> tuple[Slot | None, list[str]]:
    errors: list[str] = []
    if row.get(None):  # csv.DictReader puts the values beyond the header under None
        errors.append("more values than there are columns")

    def cell(column: str) -> str:
        value = row.get(column)
        return "" if value is None else str(value).strip()

    values = []
    for key in strata_keys:
        if not cell(key):
            errors.append(f"'{key}' is empty")
        values.append(cell(key))
    stratum = tuple(values)
    if known_strata is not None and all(values) and stratum not in known_strata:
        errors.append(f"unknown {_label(stratum, strata_keys)}")

    sequence = _whole_number(cell(SEQUENCE), SEQUENCE, errors, required=True)
    arm = cell(ARM)
    if not arm:
        errors.append("'arm' is empty")
    elif arm not in arms:
        errors.append(f"unknown arm '{arm}' (expected one of {', '.join(arms)})")
    block = _whole_number(cell("block"), "block", errors)
    block_size = _whole_number(cell("block_size"), "block_size", errors)

    if errors:
        return None, errors
    return Slot(stratum, sequence, arm, block, block_size), []


def _whole_number(text: str, column: str, errors: list[str], required: bool = False):
    if not text:
        if required:
            errors.append(f"'{column}' is empty")
        return None
    if not _WHOLE_NUMBER.fullmatch(text) or int(text) < 1:
        errors.append(f"'{column}' must be a whole number of at least 1, got '{text}'")
        return None
    return int(text)


def _sequence_gaps(
    lines: dict[tuple[tuple[str, ...], int], int], strata_keys: list[str]
) -> list[tuple[int, str]]:
    """Each stratum's numbers must run 1, 2, 3...: a gap would leave a participant
    with no slot, or make 'the next slot' ambiguous."""
    by_stratum: dict[tuple[str, ...], list[int]] = {}
    for stratum, sequence in lines:
        by_stratum.setdefault(stratum, []).append(sequence)
    errors = []
    for stratum, sequences in by_stratum.items():
        expected = 1
        for sequence in sorted(sequences):
            if sequence != expected:
                missing = (
                    str(expected) if sequence == expected + 1 else f"{expected} to {sequence - 1}"
                )
                errors.append(
                    (
                        lines[(stratum, sequence)],
                        f"{_label(stratum, strata_keys)}: sequence {missing} is missing "
                        f"before {sequence}",
                    )
                )
            expected = sequence + 1
    return errors


def _label(stratum: tuple[str, ...], keys: Sequence[str] = ()) -> str:
    if not stratum:
        return "the list"
    if keys:
        return "stratum " + ", ".join(f"{k}={v}" for k, v in zip(keys, stratum, strict=True))
    return "stratum " + "/".join(stratum)
