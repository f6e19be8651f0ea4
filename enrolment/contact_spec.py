"""The protocol file's ``[contact]`` section: how follow-up reaches participants.

```toml
[contact]
fallback = ["email", "sms", "post"]   # after the participant's own choice, in this order
hours = ["08:00", "21:00"]            # invitations, reminders and SMS go out only then
days = ["monday", ..., "sunday"]      # ... and on these days (the trial's time zone)
late_after_minutes = 60               # a weekly SMS question later than this ...
late_rule = "wait"                    # ... waits for the next allowed time, or "skip"s its week
```

Stored on ``Trial.contact`` as plain data; :mod:`followup.reach` reads it.
"""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CHANNELS = ("email", "sms", "post")
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ContactSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fallback: list[Literal["email", "sms", "post"]] = Field(
        default_factory=lambda: ["email", "sms", "post"]
    )
    # "HH:MM" each; "24:00" as the end means until midnight (["00:00", "24:00"]: any time).
    hours: tuple[str, str] = ("08:00", "21:00")
    days: list[Literal[tuple(DAYS)]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(DAYS), min_length=1
    )
    late_after_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    late_rule: Literal["wait", "skip"] = "wait"

    @field_validator("fallback")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each channel at most once in fallback")
        return value

    @field_validator("hours", mode="before")
    @classmethod
    def _clock(cls, value):
        out = []
        for v in value:
            text = v.strftime("%H:%M") if isinstance(v, time) else str(v)
            if text != "24:00":
                try:
                    time.fromisoformat(text)
                except ValueError:
                    raise ValueError(f"hours: {text!r} is not a time like '08:00'") from None
            out.append(text[:5])
        return tuple(out)

    @model_validator(mode="after")
    def _hours(self):
        if self.hours[0] == "24:00" or self.hours[0] >= self.hours[1]:
            raise ValueError("hours: the first time must be before the second (same day)")
        return self

    def stored(self) -> dict:
        """What ``Trial.contact`` holds (JSON)."""
        return {
            "fallback": list(self.fallback),
            "hours": list(self.hours),
            "days": list(self.days),
            "late_after_minutes": self.late_after_minutes,
            "late_rule": self.late_rule,
        }
