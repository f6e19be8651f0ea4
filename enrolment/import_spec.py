"""The protocol file's ``[[imports]]``: data a trial brings in from outside the site, per
participant (or per participant and week), with its columns declared as data so the
import (analysis.imports) validates, stores and exports it without code of its own.

    [[imports]]
    code = "dk_registries"
    label = "Danish registries: sickness benefit (DREAM) and health service contacts"
    per = "participant"            # or "participant_week" (a week column, 1..)
    match = "study_id"             # or "national_id" (matched through PersonalDetails)
    consent = "registry_linkage"   # rows of participants who refused this are left out

    [[imports.columns]]
    name = "sickness_benefit_weeks"
    type = "integer"               # integer, number, boolean (0/1) or date (YYYY-MM-DD)
    min = 0
    max = 52
    label = "Weeks on sickness benefit in the 12 months from baseline"
    price = "sickness_benefit_week" # optional: the [prices] item it is costed with
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RESERVED = {"study_id", "national_id", "week"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImportColumnSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    type: Literal["integer", "number", "boolean", "date"]
    label: str = Field(min_length=1, max_length=300)
    min: float | None = None
    max: float | None = None
    required: bool = True
    price: str = ""

    @model_validator(mode="after")
    def _range(self):
        if self.name in RESERVED:
            raise ValueError(f"column {self.name!r} is reserved")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"column {self.name}: min {self.min} is above max {self.max}")
        if self.type in ("boolean", "date") and (self.min is not None or self.max is not None):
            raise ValueError(f"column {self.name}: a {self.type} column has no min or max")
        return self


class ImportSpec(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    label: str = Field(min_length=1, max_length=300)
    per: Literal["participant", "participant_week"] = "participant"
    match: Literal["study_id", "national_id"] = "study_id"
    consent: str = ""
    max_week: int = Field(default=260, ge=1)
    columns: list[ImportColumnSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        names = [c.name for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"import {self.code}: duplicate columns {dupes}")
        return self


def problems(imports: list[ImportSpec], prices: dict[str, float] | None) -> list[str]:
    out = []
    codes = [i.code for i in imports]
    if len(codes) != len(set(codes)):
        out.append("imports: duplicate code")
    for imp in imports:
        for col in imp.columns:
            if col.price and col.price not in (prices or {}):
                out.append(
                    f"imports {imp.code}: column {col.name} is priced by {col.price!r}, "
                    "which is not an item of [prices]"
                )
            if col.price and col.type not in ("integer", "number"):
                out.append(f"imports {imp.code}: column {col.name} is priced but not a number")
    return out
