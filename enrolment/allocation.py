"""Allocation rules as plain functions of data: no database, no clock."""

from __future__ import annotations

from datetime import date, timedelta

CONTROL = "control"
INTERVENTION = "intervention"

CLUSTER_DOGLEG = "cluster_dogleg"
CLUSTER_PARALLEL = "cluster_parallel"
INDIVIDUAL = "individual"
CLUSTER_DESIGNS = (CLUSTER_DOGLEG, CLUSTER_PARALLEL)


def cluster_condition(crossover: date | None, on: date) -> str:
    """The condition of a cluster on a date.

    ``crossover`` is the first day the cluster works in the intervention; a cluster that
    starts in the intervention has a crossover on or before its first enrolment, and one
    that stays in routine care has none.
    """
    if crossover is not None and on >= crossover:
        return INTERVENTION
    return CONTROL


def in_crossover_washout(crossover: date | None, on: date, washout_days: int = 14) -> bool:
    """True when ``on`` falls in the window of ``washout_days`` centred on the crossover.

    The protocol's sensitivity analysis drops patients enrolled in the two weeks around a
    crossover, when clinics are still settling into the new model of care.
    """
    if crossover is None or washout_days <= 0:
        return False
    half = timedelta(days=washout_days / 2)
    return crossover - half <= on < crossover + half


def study_id(prefix: str, cluster_code: str, sequence: int) -> str:
    """A readable study ID such as ``BB-W-0001``: trial, cluster (or site), number."""
    return f"{prefix}-{cluster_code}-{sequence:04d}"
