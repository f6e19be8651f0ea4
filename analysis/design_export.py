"""The analysis dataset's design columns (``enrolled_month``, ``period``, ``per_protocol``,
``deviation_types``): the facts read once per export, the values from the plain functions
of :mod:`analysis.design_columns`, and the codebook entries that say how each is derived.

Deviation descriptions are clinical free text that may identify a person: they are never
read here. Only a deviation's type and its per-protocol flag reach an export.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Min

from enrolment.models import Deviation, DeviationType, Participant

from . import design_columns as dc
from . import imports


@dataclass
class DesignFacts:
    first_enrolment: date | None
    recruitment_start: date | None
    period_starts: list[date]
    excluding: dict[int, int] = field(default_factory=dict)  # participant id -> deviations
    types: dict[int, list[str]] = field(default_factory=dict)  # participant id -> type codes
    # The protocol's [enrolment] fields (enrolment.enrol_fields): participant id -> values.
    asked: tuple[str, ...] = ()
    enrolment: dict[int, dict] = field(default_factory=dict)
    # The protocol's [[imports]] (analysis.imports): column names, participant id -> values.
    imported_names: tuple[str, ...] = ()
    imported: dict[int, dict] = field(default_factory=dict)

    @classmethod
    def of(cls, trial) -> DesignFacts:
        first = Participant.objects.filter(trial=trial).aggregate(d=Min("enrolled_on"))["d"]
        # Without a recruitment start in the protocol, recruitment starts at the first enrolment.
        start = trial.recruitment_start or first
        crossovers = trial.clusters.values_list("crossover", flat=True)
        excluding: dict[int, int] = defaultdict(int)
        types: dict[int, set[str]] = defaultdict(set)
        rows = Deviation.objects.filter(participant__trial=trial).values_list(
            "participant_id", "type__code", "excludes_per_protocol"
        )
        for pid, code, excludes in rows:
            types[pid].add(code)
            excluding[pid] += int(excludes)
        asked = enrolment_columns(trial)
        enrolment = (
            {row["id"]: row for row in Participant.objects.filter(trial=trial).values("id", *asked)}
            if asked
            else {}
        )
        return cls(
            first_enrolment=first,
            recruitment_start=start,
            period_starts=dc.period_starts(crossovers, start),
            excluding=dict(excluding),
            types={pid: sorted(codes) for pid, codes in types.items()},
            asked=asked,
            enrolment=enrolment,
            imported_names=tuple(
                name for spec in trial.imports or [] for name, _c in imports.column_names(spec)
            ),
            imported=imports.participant_columns(trial),
        )

    def columns(self, participant_id: int, enrolled_on: date, blinded: bool) -> dict:
        out = {
            "enrolled_month": dc.enrolled_month(self.first_enrolment, enrolled_on),
            "period": dc.period(self.period_starts, enrolled_on),
            "per_protocol": dc.per_protocol(self.excluding.get(participant_id, 0)),
        }
        if not blinded:
            out["deviation_types"] = ";".join(self.types.get(participant_id, []))
        for name in self.asked:
            if name in UNBLINDED_ONLY and blinded:
                continue
            out[name] = self.enrolment.get(participant_id, {}).get(name) or None
        mine = self.imported.get(participant_id, {})
        for name in self.imported_names:
            out[name] = mine.get(name)
        return out


# Recorded only in one condition, so it would unblind.
UNBLINDED_ONLY = {"first_contact_clinician"}


def enrolment_columns(trial) -> tuple[str, ...]:
    """The participant fields the protocol's [enrolment] section asks, in a fixed order."""
    fields = trial.enrolment_fields or {}
    return tuple(n for n in ("sex", "first_contact_clinician") if fields.get(n))


def enrolment_vars(trial, blinded: bool) -> list:
    from .exports import STRING, Var

    out = []
    if "sex" in enrolment_columns(trial):
        out.append(
            Var(
                "sex",
                "Sex (recorded at enrolment)",
                STRING,
                labels={c: str(label) for c, label in Participant.SEXES},
                rule="chosen by staff in the enrol form (protocol file: [enrolment] sex)",
            )
        )
    if "first_contact_clinician" in enrolment_columns(trial) and not blinded:
        out.append(
            Var(
                "first_contact_clinician",
                "First-contact clinician chosen at an intervention clinic",
                STRING,
                labels={c: str(label) for c, label in Participant.CLINICIAN_TYPES},
                rule="chosen by the patient at enrolment at a clinic in the intervention "
                "condition (chiropractor or physiotherapist); empty in the control "
                "condition. Left out of blinded exports: it reveals the condition",
            )
        )
    return out


def design_vars(trial, blinded: bool = False) -> list:
    """Codebook entries of the design columns, with this trial's own dates and types."""
    from .exports import NUMERIC, STRING, Var

    facts = DesignFacts.of(trial)
    first = f"{facts.first_enrolment:%Y-%m-%d}" if facts.first_enrolment else "none yet"
    start = f"{facts.recruitment_start:%Y-%m-%d}" if facts.recruitment_start else "none yet"
    crossings = ", ".join(
        f"{c.code} {c.crossover:%Y-%m-%d}"
        for c in trial.clusters.exclude(crossover=None).order_by("crossover")
    )
    starts = ", ".join(f"{d:%Y-%m-%d}" for d in facts.period_starts) or "none"
    types = list(DeviationType.objects.filter(trial=trial))
    excluded = [t.code for t in types if t.per_protocol == DeviationType.EXCLUDED]
    judged = [t.code for t in types if t.per_protocol == DeviationType.JUDGED]
    out = [
        Var(
            "enrolled_month",
            "Whole months from the trial's first enrolment to this enrolment",
            NUMERIC,
            rule=f"whole calendar months from the trial's first enrolment ({first}) to the "
            "participant's enrolment date; 0 in the first month; a month is complete on the "
            "same day of the next month (31 Jan to 28 Feb is 0)",
        ),
        Var(
            "period",
            "Calendar period of enrolment",
            NUMERIC,
            rule=f"1 + the number of crossovers of any cluster after recruitment started "
            f"({start}) and on or before the enrolment date; clusters crossing over on the "
            f"same day count once. Crossovers: {crossings or 'none'}; periods begin on: "
            f"{starts}",
        ),
        Var(
            "per_protocol",
            "In the per-protocol set",
            NUMERIC,
            labels={1: "True", 0: "False"},
            rule="False when the protocol-deviation log holds a deviation that excludes the "
            f"participant: every deviation of a type the protocol marks excluded "
            f"({', '.join(excluded) or 'none'}), and those of a type judged case by case "
            f"({', '.join(judged) or 'none'}) that the recorder marked as excluding; True "
            "otherwise. Deviation descriptions (clinical free text) are never exported",
        ),
    ]
    if not blinded:
        out.append(
            Var(
                "deviation_types",
                "Types of the participant's protocol deviations",
                STRING,
                labels={t.code: t.label for t in types},
                rule="the codes of the deviation types recorded for the participant, "
                "';'-separated, empty when none; descriptions are never exported. Left out "
                "of blinded exports: some types occur in one condition only",
            )
        )
    return out + enrolment_vars(trial, blinded) + import_vars(trial)


def import_vars(trial) -> list:
    """Codebook entries of the columns the protocol's [[imports]] bring in."""
    from .exports import NUMERIC, STRING, Var

    out = []
    for spec in trial.imports or []:
        source = f"import {spec['code']!r} ({spec['label']})"
        for name, col in imports.column_names(spec):
            if col is None:
                out.append(
                    Var(name, f"Weeks with data: {spec['label']}", NUMERIC,
                        rule=f"number of weeks the current {source} holds for the participant")
                )  # fmt: skip
                continue
            weekly = spec["per"] == "participant_week"
            low, high = col.get("min"), col.get("max")
            out.append(
                Var(
                    name,
                    col["label"] + (" (sum over weeks)" if weekly else ""),
                    STRING if col["type"] == "date" else NUMERIC,
                    labels={1: "Yes", 0: "No"} if col["type"] == "boolean" else {},
                    allowed=""
                    if weekly or low is None or high is None
                    else f"{imports._fmt(low)}..{imports._fmt(high)}",
                    rule=f"column {col['name']} ({col['type']}) of the current {source}"
                    + ("; summed over the participant's weeks" if weekly else "")
                    + (f"; priced as {col['price']!r} in [prices]" if col.get("price") else "")
                    + "; missing where the participant has no row",
                )
            )
    return out
