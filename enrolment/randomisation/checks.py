"""Checking a stored list without seeing its order: :func:`list_fingerprint` shows it has
not changed, :func:`balance_report` counts the arms per stratum, and
:func:`imbalance_beyond_blocks` finds a stratum more unbalanced than its blocks allow.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

from .generate import Slot, _check_arms
from .upload import _label

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
