"""Version 2 of BetterBack's protocol file, as an ethics amendment would write it.

Built from the shipped ``protocols/betterback.toml`` by named edits rather than kept as
a second copy, so that whatever else the file gains stays the same in both versions and
the diff holds exactly these changes:

* adds a 9-month patient timepoint (the same PROMs as 6 months);
* drops the 6-month timepoint;
* widens the 12-month window from 45 to 60 days after the due date.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

V1 = Path(settings.BASE_DIR) / "protocols" / "betterback.toml"

SIX_MONTHS = """[[timepoints]]
code = "6m"
label = {en = "6 months", sv = "6 månader", da = "6 måneder"}
respondent = "patient"
anchor = "enrolment"
offset = 6
window_before_days = 14
window_after_days = 30
instruments = ["nrs", "odi", "eq5d3l", "bipq", "pei", "satisfaction", "pgic", "bb_costs"]
"""

NINE_MONTHS = (
    SIX_MONTHS.replace('"6m"', '"9m"')
    .replace("offset = 6", "offset = 9")
    .replace(
        'label = {en = "6 months", sv = "6 månader", da = "6 måneder"}',
        'label = {en = "9 months", sv = "9 månader", da = "9 måneder"}',
    )
)

TWELVE_WINDOW = """anchor = "enrolment"
offset = 12
window_before_days = 14
window_after_days = 45"""


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the edit expects exactly one {old!r}"
    return text.replace(old, new)


def betterback_v2(directory: Path) -> Path:
    text = V1.read_text(encoding="utf-8")
    text = edit(text, SIX_MONTHS, NINE_MONTHS)
    text = edit(text, TWELVE_WINDOW, TWELVE_WINDOW.replace("45", "60"))
    path = Path(directory) / "betterback.toml"
    path.write_text(text, encoding="utf-8")
    return path


def betterback_edited(directory: Path, *edits: tuple[str, str]) -> Path:
    text = V1.read_text(encoding="utf-8")
    for old, new in edits:
        text = edit(text, old, new)
    path = Path(directory) / "betterback.toml"
    path.write_text(text, encoding="utf-8")
    return path
