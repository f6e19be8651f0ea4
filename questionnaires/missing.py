"""Reasons for a missing value, each with a numeric code that no real value can take.

Codes follow Castor's convention of negative codes from −95 to −99. A response keeps them
apart from its answers (``Response.missing``: item id -> code, and the item absent from
``answers``), so scoring, which only reads ``answers``, treats every reason as missing and
the published missing-item rules apply unchanged. Exports show a plain missing value with
the code in a parallel ``<column>_reason`` column (CSV, Parquet) or as a labelled missing
value (SPSS, Stata), and the codebook lists the labels.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

NOT_DONE = -99  # not asked / not done
REFUSED = -98
DONT_KNOW = -97
NOT_APPLICABLE = -96
LOST = -95  # the paper form (or its page) was lost

REASONS = {
    NOT_DONE: ("not_done", _("Not asked / not done")),
    REFUSED: ("refused", _("Refused (prefer not to answer)")),
    DONT_KNOW: ("dont_know", _("Don't know")),
    NOT_APPLICABLE: ("not_applicable", _("Not applicable")),
    LOST: ("lost", _("Lost (paper form)")),
}
# What a patient on a survey link may choose, where the instrument allows skipping.
PATIENT_REASONS = (REFUSED,)


def is_reason(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in REASONS


def label(code: int) -> str:
    return str(REASONS[code][1])
