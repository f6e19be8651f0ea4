"""Concealed permuted-block randomisation lists for individually randomised trials.

Plain functions of data: no database, no clock. A list is either generated here from a
secret seed (:func:`generate_list`) or uploaded by the coordinator, as REDCap allows
(:func:`parse_uploaded_list`). Either way it is stored once and then only read:
:func:`list_fingerprint` shows it has not changed, :func:`balance_report` lets a data
manager check it without seeing the order.

Concealment rests on the seed: anyone who knows it can regenerate the list, so draw it
with ``secrets.randbits(64)`` and keep it where only the list's author can see it.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SEQUENCE = "sequence"
ARM = "arm"
OPTIONAL_COLUMNS = ("block", "block_size")


@dataclass(frozen=True)
class Slot:
    """One line of a randomisation list: the ``sequence``-th participant of ``stratum``
    gets ``arm``. ``block`` and ``block_size`` are None for an uploaded list without them."""

    stratum: tuple[str, ...]
    sequence: int
    arm: str
    block: int | None = None
    block_size: int | None = None


class ListError(ValueError):
    """An uploaded list has problems: ``errors`` holds every (line number, message)."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        details = "; ".join(f"line {line}: {msg}" for line, msg in errors)
        super().__init__(f"{len(errors)} problem(s) in the randomisation list: {details}")


# --- generating a list -------------------------------------------------------------------


def generate_list(
    *,
    arms: list[str],
    strata: list[tuple[str, ...]],
    block_sizes: list[int],
    length_per_stratum: int,
    seed: int,
    ratio: list[int] | None = None,
) -> list[Slot]:
    """A permuted-block list for every stratum, in the order the strata are given.

    Each block's size is drawn at random from ``block_sizes`` (varying sizes make the
    end of a block harder to guess); within a block the arms appear in ``ratio`` and
    in random order. Blocks are never cut short, so a stratum gets at least
    ``length_per_stratum`` slots and is balanced at the end of every block (as R's
    ``blockrand`` does).

    Each stratum draws from its own generator seeded from (seed, stratum), so the list
    of a stratum depends only on the seed, the arms with their ratio and the block
    sizes: not on which other strata exist or the order they are listed in.
    """
    ratio = _check_arms(arms, ratio)
    strata = _check_strata(strata)
    sizes = _check_block_sizes(block_sizes, sum(ratio))
    if isinstance(length_per_stratum, bool) or not isinstance(length_per_stratum, int):
        raise ValueError("length_per_stratum must be a whole number")
    if length_per_stratum < 1:
        raise ValueError("length_per_stratum must be at least 1")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError("seed must be a whole number")
    # Sorted so that listing the arms (with their ratio) in another order changes nothing.
    arm_ratio = sorted(zip(arms, ratio, strict=True))
    slots: list[Slot] = []
    for stratum in strata:
        slots.extend(_stratum_list(stratum, arm_ratio, sizes, length_per_stratum, seed))
    return slots


def _stratum_list(
    stratum: tuple[str, ...],
    arm_ratio: list[tuple[str, int]],
    sizes: list[int],
    length: int,
    seed: int,
) -> list[Slot]:
    rng = random.Random(_stratum_seed(seed, stratum))
    per_cycle = sum(r for _, r in arm_ratio)
    slots: list[Slot] = []
    block = 0
    while len(slots) < length:
        block += 1
        size = rng.choice(sizes)
        cycles = size // per_cycle
        arms_in_block = [arm for arm, r in arm_ratio for _ in range(r * cycles)]
        rng.shuffle(arms_in_block)
        for arm in arms_in_block:
            slots.append(Slot(stratum, len(slots) + 1, arm, block, size))
    return slots


def _stratum_seed(seed: int, stratum: tuple[str, ...]) -> int:
    # JSON rather than str(): unambiguous whatever characters the stratum values hold.
    key = json.dumps([seed, list(stratum)], ensure_ascii=False)
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest(), "big")


def _check_arms(arms: Sequence[str], ratio: Sequence[int] | None) -> list[int]:
    if isinstance(arms, str) or not arms:
        raise ValueError("arms must be a non-empty list of arm codes")
    if len(arms) < 2:
        raise ValueError("a randomisation list needs at least two arms")
    for arm in arms:
        if not isinstance(arm, str) or not arm.strip():
            raise ValueError(f"arm codes must be non-empty strings, got {arm!r}")
    duplicates = sorted({a for a in arms if list(arms).count(a) > 1})
    if duplicates:
        raise ValueError(f"arm listed more than once: {', '.join(duplicates)}")
    if ratio is None:
        return [1] * len(arms)
    ratio = list(ratio)
    if len(ratio) != len(arms):
        raise ValueError(f"ratio has {len(ratio)} numbers for {len(arms)} arms")
    for r in ratio:
        if isinstance(r, bool) or not isinstance(r, int) or r < 1:
            raise ValueError(f"ratio must hold whole numbers of at least 1, got {r!r}")
    return ratio


def _check_strata(strata: Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    if isinstance(strata, str) or not strata:
        raise ValueError("strata must be a non-empty list of tuples (use [()] for none)")
    checked: list[tuple[str, ...]] = []
    for stratum in strata:
        if isinstance(stratum, str) or not isinstance(stratum, (tuple, list)):
            raise ValueError(f"each stratum must be a tuple of values, got {stratum!r}")
        stratum = tuple(stratum)
        for value in stratum:
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"stratum values must be non-empty strings, got {stratum!r}")
        if stratum in checked:
            raise ValueError(f"stratum listed more than once: {stratum!r}")
        if checked and len(stratum) != len(checked[0]):
            raise ValueError(
                f"all strata must have {len(checked[0])} value(s); {stratum!r} has {len(stratum)}"
            )
        checked.append(stratum)
    return checked


def _check_block_sizes(block_sizes: Sequence[int], per_cycle: int) -> list[int]:
    if isinstance(block_sizes, (str, int)) or not block_sizes:
        raise ValueError("block_sizes must be a non-empty list of whole numbers")
    for size in block_sizes:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"block sizes must be positive whole numbers, got {size!r}")
        if size % per_cycle:
            raise ValueError(
                f"block size {size} is not a multiple of {per_cycle}, the sum of the ratio"
            )
    if len(set(block_sizes)) != len(block_sizes):
        # A repeated size would silently be drawn more often than the others.
        raise ValueError(f"block size listed more than once: {sorted(block_sizes)}")
    # Sorted so that the order the sizes are listed in does not change the list.
    return sorted(block_sizes)


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


# --- checking a stored list --------------------------------------------------------------


def list_fingerprint(slots: Iterable[Slot]) -> str:
    """SHA-256 of the list's content: which arm each (stratum, sequence) gets.

    Sorted first, so it does not depend on the order rows come back from storage. Block
    numbers and sizes are left out: they are bookkeeping about how the list was made,
    and an uploaded list may not have them.
    """
    canonical = sorted([list(s.stratum), s.sequence, s.arm] for s in slots)
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def balance_report(
    slots: Iterable[Slot], arms: Sequence[str] | None = None
) -> dict[tuple[str, ...], dict[str, int]]:
    """How many slots each stratum gives each arm, without the order.

    Strata in order of first appearance; arms in the order of ``arms`` if given (an arm
    with no slot then shows 0), else in order of first appearance.
    """
    slots = list(slots)
    arm_order = list(arms) if arms is not None else list(dict.fromkeys(s.arm for s in slots))
    report: dict[tuple[str, ...], dict[str, int]] = {}
    for slot in slots:
        counts = report.setdefault(slot.stratum, dict.fromkeys(arm_order, 0))
        if slot.arm not in counts:
            raise ValueError(f"slot {slot.sequence} of {_label(slot.stratum)}: unknown arm")
        counts[slot.arm] += 1
    return report


def imbalance_beyond_blocks(
    slots: Iterable[Slot],
    arms: Sequence[str],
    block_sizes: Sequence[int],
    ratio: Sequence[int] | None = None,
) -> list[str]:
    """Where a list strays further from the allocation ratio than permuted blocks can.

    In permuted blocks every block holds the arms in the ratio, so at any point of a
    stratum's sequence an arm is at most one block's share away from its expected
    count (3 for 1:1 blocks of up to 6). A list that goes further (every slot in one arm,
    a sorted column) was not made of such blocks. One sentence per stratum, at the first
    slot where it happens; an empty list when the list is within bounds."""
    weights = _check_arms(arms, ratio)
    total = sum(weights)
    bound = {arm: max(block_sizes) * w / total for arm, w in zip(arms, weights, strict=True)}
    by_stratum: dict[tuple[str, ...], list[Slot]] = {}
    for slot in slots:
        by_stratum.setdefault(slot.stratum, []).append(slot)
    found = []
    for stratum, members in by_stratum.items():
        counts = dict.fromkeys(arms, 0)
        for n, slot in enumerate(sorted(members, key=lambda s: s.sequence), start=1):
            counts[slot.arm] += 1
            over = [
                a for a, w in zip(arms, weights, strict=True)
                if abs(counts[a] - n * w / total) > bound[a]
            ]
            if over:
                shares = ", ".join(f"{a} {counts[a]}" for a in arms)
                found.append(
                    f"{_label(stratum)}: after slot {slot.sequence} the arms have {shares}; "
                    f"blocks of at most {max(block_sizes)} allow no more than "
                    f"{bound[over[0]]:g} away from the ratio"
                )
                break
    return found
