"""Storing randomisation lists: generated from a recorded seed or uploaded as a table.

The arms are written once and read only by :func:`enrolment.actions.enrol.next_slot`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping

from django.db import transaction

from .models import RandomisationList, RandomisationSlot, Trial
from .randomisation.checks import imbalance_beyond_blocks, list_fingerprint
from .randomisation.generate import Slot, generate_list
from .randomisation.upload import parse_uploaded_list

RISK_GROUPS = ("1", "2", "3")


def strata_of(trial: Trial) -> list[tuple[str, ...]]:
    """Every stratum the trial's protocol defines: sites crossed with the other keys."""
    keys = trial.randomisation.get("strata", ["site"])
    strata: list[tuple[str, ...]] = [()]
    for key in keys:
        values = (
            [c.code for c in trial.clusters.order_by("allocation_order")]
            if key == "site"
            else list(RISK_GROUPS)
        )
        strata = [s + (f"{key}={v}",) for s in strata for v in values]
    return strata


def _key(stratum: tuple[str, ...]) -> str:
    return "|".join(stratum)


@transaction.atomic
def _store(trial, user, slots, source: str, seed: int | None) -> RandomisationList:
    if RandomisationSlot.objects.filter(rlist__trial=trial, participant__isnull=False).exists():
        raise ValueError("Participants have been randomised: the list can no longer be replaced.")
    RandomisationList.objects.filter(trial=trial, active=True).update(active=False)
    rlist = RandomisationList.objects.create(
        trial=trial,
        source=source,
        strata_keys=trial.randomisation.get("strata", ["site"]),
        seed=seed,
        fingerprint=list_fingerprint(slots),
        created_by=user,
    )
    RandomisationSlot.objects.bulk_create(
        RandomisationSlot(rlist=rlist, stratum=_key(s.stratum), sequence=s.sequence, arm=s.arm)
        for s in slots
    )
    return rlist


def generate(trial: Trial, user, seed: int | None = None) -> RandomisationList:
    """Generate and store the list; the seed is drawn at random unless given, and kept."""
    spec = trial.randomisation
    if not spec:
        raise ValueError(f"{trial.code} is not individually randomised.")
    seed = secrets.randbits(62) if seed is None else seed
    slots = generate_list(
        arms=list(trial.arms.order_by("code").values_list("code", flat=True)),
        strata=strata_of(trial),
        block_sizes=spec["block_sizes"],
        length_per_stratum=spec["length_per_stratum"],
        seed=seed,
        ratio=spec.get("ratio"),
    )
    return _store(trial, user, slots, RandomisationList.GENERATED, seed)


class Unbalanced(ValueError):
    """The list strays from the ratio further than its block sizes allow."""

    def __init__(self, findings: list[str]):
        self.findings = findings
        super().__init__("; ".join(findings))


def upload(
    trial: Trial, user, rows: Iterable[Mapping[str, str]], accept_imbalance: bool = False
) -> RandomisationList:
    """Store a list uploaded as a table with columns site[, sbst_risk_group], sequence, arm.
    Raises :class:`ListError` with every problem by line, and
    :class:`Unbalanced` for a list no permuted blocks of the protocol's sizes could give,
    unless the coordinator has looked at it and accepts it."""
    keys = trial.randomisation.get("strata", ["site"])
    arms = list(trial.arms.values_list("code", flat=True))
    raw_strata = [tuple(part.split("=", 1)[1] for part in s) for s in strata_of(trial)]
    raw = parse_uploaded_list(rows, arms, keys, strata=raw_strata)
    slots = [
        Slot(
            stratum=tuple(f"{k}={v}" for k, v in zip(keys, s.stratum, strict=True)),
            sequence=s.sequence,
            arm=s.arm,
        )
        for s in raw
    ]
    findings = imbalance_beyond_blocks(
        slots,
        list(trial.arms.order_by("code").values_list("code", flat=True)),  # as generate()
        trial.randomisation["block_sizes"],
        trial.randomisation.get("ratio"),
    )
    if findings and not accept_imbalance:
        raise Unbalanced(findings)
    return _store(trial, user, slots, RandomisationList.UPLOADED, None)
