"""Physiotherapist background information, recorded on day 1 of the BetterBack workshop
(Supplementary file 2: "Participating physiotherapists record background information,
PABQ, PCQ, DIBQ", day 1 08:30).

The protocol does not list the items; these are the characteristics a clinician survey
of back-pain care usually describes (sex, age, years of practice, years in primary care,
postgraduate training in musculoskeletal physiotherapy). Descriptive only: no score.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import CHOICE, NUMBER, PHYSIOTHERAPIST, YESNO, Choice, Instrument, Item
from ..registry import register

PT_BACKGROUND = register(
    Instrument(
        code="pt_background",
        version=1,
        name="Physiotherapist background information",
        respondent=PHYSIOTHERAPIST,
        items=(
            Item(
                "sex",
                gettext_noop("Sex"),
                CHOICE,
                choices=(
                    Choice(1, gettext_noop("Woman")),
                    Choice(2, gettext_noop("Man")),
                    Choice(3, gettext_noop("Other or prefer not to say")),
                ),
            ),
            Item("age", gettext_noop("Age (years)"), NUMBER, min=18, max=80),
            Item(
                "years_practice",
                gettext_noop("Years working as a physiotherapist"),
                NUMBER,
                min=0,
                max=60,
            ),
            Item(
                "years_primary_care",
                gettext_noop("Years working in primary care"),
                NUMBER,
                min=0,
                max=60,
            ),
            Item(
                "msk_training",
                gettext_noop(
                    "Postgraduate training in musculoskeletal or orthopaedic manual therapy"
                ),
                YESNO,
            ),
        ),
        scores=(),
        score_fn=lambda answers: {},
        source="BetterBack trial protocol, Supplementary file 2 (background information).",
    )
)
