"""The protocol version column of the exports: which version of the protocol file each
participant was enrolled under, with every version listed in the codebook."""

from __future__ import annotations


def protocol_version_var(trial):
    from .exports import NUMERIC, Var

    labels = {
        v.number: f"{v.loaded_at:%Y-%m-%d}" + (f", amendment {v.amendment}" if v.amendment else "")
        for v in trial.protocol_versions.order_by("number")
    }
    return Var(
        "protocol_version",
        "Protocol version at enrolment",
        NUMERIC,
        labels=labels,
        rule="the protocol file version the participant was enrolled and first planned under "
        "(the trial's protocol versions page shows each version's changes)",
    )
