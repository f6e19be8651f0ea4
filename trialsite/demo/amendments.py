"""A protocol amendment in the demo: SAFE's version 2 (ethics amendment) adds a 15-month
questionnaire and widens the 12-month window, loaded after the replayed history, so that
the trial's protocol versions page shows two versions, their diff and the contacts not
yet due that were re-planned; contacts already sent or answered keep version 1."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model

from enrolment.amendments import load_versioned
from enrolment.demo import SAFE_PROTOCOL, without_second_factor
from enrolment.protocol.reading import read_protocol

AMENDMENT = "De Videnskabsetiske Komitéer S-20160177, tillæg 2"

# The 6-month timepoint as the shipped file words it, whatever its instruments.
SIX_MONTHS = re.compile(r'code = "6m"\n.*?\ninstruments = \[[^\]]*\]\n', re.S)
EIGHTEEN = '[[timepoints]]\ncode = "18m"\n'
TWELVE = "offset = 12\nwindow_before_days = 14\nwindow_after_days = 45\n"


def fifteen_months(six: str) -> str:
    return (
        six.replace('"6m"', '"15m"')
        .replace("offset = 6", "offset = 15")
        .replace("6 months", "15 months")
        .replace("6 månader", "15 månader")
        .replace("6 måneder", "15 måneder")
    )


def safe_version_2() -> str:
    text = SAFE_PROTOCOL.read_text(encoding="utf-8")
    six = SIX_MONTHS.search(text)
    if six is None or text.count(TWELVE) != 1 or text.count(EIGHTEEN) != 1:
        return ""  # the shipped file changed: no demo amendment rather than a wrong one
    fifteen = fifteen_months(six.group(0))
    text = text.replace(EIGHTEEN, "[[timepoints]]\n" + fifteen + "\n" + EIGHTEEN)
    return text.replace(TWELVE, TWELVE.replace("45", "60"))


def amend_demo_trials(trials, now) -> dict[str, int]:
    """Load SAFE's version 2 once (a second build finds it loaded)."""
    safe = next((t for t in trials if t.code == "safe"), None)
    text = safe_version_2()
    if safe is None or not text or safe.protocol_versions.filter(number__gt=1).exists():
        return {}
    coordinator = get_user_model().objects.filter(username="coordinator").first()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / SAFE_PROTOCOL.name
        path.write_text(text, encoding="utf-8")
        result = load_versioned(
            path,
            # The demo moved the trial in time: version 2 moves by the same days.
            (safe.recruitment_end - read_protocol(SAFE_PROTOCOL).trial.recruitment_end).days,
            amendment=AMENDMENT,
            loaded_by=coordinator,
            now=now,
        )
    without_second_factor(safe)  # the file asks for it; the demo's logins do not
    touched = sum(c["contacts"] for c in result.consequences if c["action"] != "carried over")
    return {"contacts re-planned by SAFE's protocol amendment": touched}
