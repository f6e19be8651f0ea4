"""Declarative, versioned instrument definitions.

An instrument is plain data (items, response types, required items) plus a pure scoring
function of the answers. Nothing here touches the database: forms, responses and the
codebook are all built from these definitions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Response types an item can have.
SCALE = "scale"  # integer from min to max, with end anchors (NRS, Likert as numbers)
CHOICE = "choice"  # one of several options, each with a numeric code
MULTI = "multi"  # any number of options (codes), stored as a sorted list of codes
YESNO = "yesno"  # stored as 1 (yes) / 0 (no)
DATE = "date"  # stored as ISO text YYYY-MM-DD
TEXT = "text"  # free text, never scored
# The longest free-text answer kept: the survey link needs no login, so without a limit
# anyone holding one could store megabytes.
TEXT_MAX_LENGTH = 2000
NUMBER = "number"  # integer count with min/max (e.g. number of visits)
ITEM_KINDS = (SCALE, CHOICE, MULTI, YESNO, DATE, TEXT, NUMBER)

# Who answers an instrument.
PATIENT = "patient"
PHYSIOTHERAPIST = "physiotherapist"  # about themselves (PCS, PABS-PT, DIBQ)
CLINICIAN = "clinician"  # a physiotherapist about a patient (CRPE-tool)

Answers = Mapping[str, Any]
Scores = dict[str, Any]


@dataclass(frozen=True)
class Choice:
    code: int
    label: str


@dataclass(frozen=True)
class Item:
    id: str  # stable; the codebook's item id and the export column suffix
    text: str  # English wording written by us; official wording is loaded per trial
    kind: str = SCALE
    min: int | None = None
    max: int | None = None
    anchors: tuple[str, str] | None = None  # labels of min and max for SCALE
    choices: tuple[Choice, ...] = ()
    required: bool = True
    section: str = ""  # heading under which the item is shown (e.g. a CRPE domain)
    help: str = ""
    code: str = ""  # an external code carried by the item (e.g. a KVÅ code)

    def __post_init__(self) -> None:
        if self.kind not in ITEM_KINDS:
            raise ValueError(f"item {self.id}: unknown kind {self.kind!r}")
        if self.kind in (SCALE, NUMBER) and (self.min is None or self.max is None):
            raise ValueError(f"item {self.id}: a {self.kind} item needs min and max")
        if self.kind in (CHOICE, MULTI) and not self.choices:
            raise ValueError(f"item {self.id}: a {self.kind} item needs choices")

    def allowed_codes(self) -> tuple[int, ...] | None:
        """The numeric values an answer may take, or None where any value of its type goes."""
        if self.kind in (SCALE, NUMBER):
            return tuple(range(self.min, self.max + 1))
        if self.kind in (CHOICE, MULTI):
            return tuple(c.code for c in self.choices)
        if self.kind == YESNO:
            return (0, 1)
        return None


@dataclass(frozen=True)
class ScoreDef:
    """A named score an instrument produces, for the codebook and the exports."""

    name: str
    label: str
    min: float | None = None
    max: float | None = None
    rule: str = ""  # the scoring rule in a sentence, with its published source
    labels: Mapping[Any, str] = field(default_factory=dict)  # value labels (e.g. risk groups)


@dataclass(frozen=True)
class Instrument:
    code: str
    version: int
    name: str
    respondent: str
    items: tuple[Item, ...]
    scores: tuple[ScoreDef, ...]
    score_fn: Callable[[Answers], Scores]
    # The instruction shown above the items, a whole sentence marked for translation
    # (e.g. "Please answer about the latest week.").
    recall: str = ""
    source: str = ""  # the published scoring rules the score follows
    options: Mapping[str, Any] = field(default_factory=dict)  # e.g. allowed value sets

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"{self.code} v{self.version} has no item {item_id!r}")

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def score(self, answers: Answers, **options: Any) -> Scores:
        """Scores as a dict named by ``self.scores``; a value is None where the
        published rules say it cannot be computed. Unknown item ids are an error
        so that a typo in a data correction never scores silently."""
        unknown = set(answers) - set(self.item_ids)
        if unknown:
            raise KeyError(f"{self.code} v{self.version}: unknown items {sorted(unknown)}")
        result = self.score_fn(answers, **options) if options else self.score_fn(answers)
        return {s.name: result.get(s.name) for s in self.scores}


def answered(answers: Answers, item_id: str) -> bool:
    """True where the item has an answer (None, '' and [] count as unanswered)."""
    value = answers.get(item_id)
    return value is not None and value != "" and value != []
