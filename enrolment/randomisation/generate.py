"""Generating a concealed permuted-block list from a secret seed: one line per
:class:`Slot` (stratum, sequence, arm, block), blocks of random sizes per stratum, each
stratum's sequence drawn from its own seed derived from the list's, with the arms, strata
and block sizes checked first.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
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
