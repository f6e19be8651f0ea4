"""Instruments declared in a protocol file (``[[instruments]]``), for questions a trial
asks in its own words (SAFE's sociodemographic and work questions) rather than a
published, scored questionnaire with a module of its own.

A declared instrument is the same :class:`~.base.Instrument` as any other: versioned,
in the registry, rendered, stored and exported generically. Each item is its own score
(its value as answered, None if unanswered). The wording in every language sits in the
protocol file: English becomes the item text, the other languages the instrument's
``options["wording"]``, which the forms use where no official wording was loaded.

The shipped protocol files' declarations are registered when the registry loads, so any
process (web, worker, command) knows them; ``read_protocol`` registers a file's own
declarations before it checks its timepoints.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from enrolment import catalogue

from . import base
from .registry import register

SHIPPED = Path(__file__).resolve().parents[2] / "protocols"
KINDS = Literal["scale", "choice", "multi", "yesno", "number", "date"]  # never free text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceDecl(_Strict):
    code: int
    label: dict[str, str] = Field(min_length=1)


class ItemDecl(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=30)
    kind: KINDS
    text: dict[str, str] = Field(min_length=1)
    choices: list[ChoiceDecl] = Field(default_factory=list)
    min: int | None = None
    max: int | None = None
    anchors: dict[str, list[str]] = Field(default_factory=dict)
    required: bool = True

    @model_validator(mode="after")
    def _shape(self):
        if self.kind in ("choice", "multi") and not self.choices:
            raise ValueError(f"item {self.id}: a {self.kind} item needs choices")
        if self.kind in ("scale", "number") and (self.min is None or self.max is None):
            raise ValueError(f"item {self.id}: a {self.kind} item needs min and max")
        codes = [c.code for c in self.choices]
        if len(codes) != len(set(codes)):
            raise ValueError(f"item {self.id}: duplicate choice codes")
        return self


class InstrumentDecl(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=30)
    version: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)
    respondent: Literal["patient", "physiotherapist", "clinician"] = "patient"
    source: str = Field(min_length=1)
    recall: dict[str, str] = Field(default_factory=dict)
    items: list[ItemDecl] = Field(min_length=1)

    @model_validator(mode="after")
    def _languages(self):
        ids = [i.id for i in self.items]
        if len(ids) != len(set(ids)):
            raise ValueError(f"instrument {self.code}: duplicate item ids")
        for item in self.items:
            texts = [item.text, *(c.label for c in item.choices)]
            if any("en" not in t for t in texts):
                raise ValueError(f"instrument {self.code} item {item.id}: needs English wording")
            langs = set().union(*texts)
            if any(set(t) != langs for t in texts):
                raise ValueError(
                    f"instrument {self.code} item {item.id}: the text and every choice need "
                    f"wording in the same languages ({sorted(langs)})"
                )
        return self

    def languages(self) -> set[str]:
        return {lang for item in self.items for lang in item.text}


def _item(decl: ItemDecl) -> base.Item:
    anchors = decl.anchors.get("en")
    return base.Item(
        decl.id,
        decl.text["en"],
        decl.kind,
        min=decl.min,
        max=decl.max,
        anchors=tuple(anchors) if anchors else None,
        choices=tuple(base.Choice(c.code, c.label["en"]) for c in decl.choices),
        required=decl.required,
    )


def _wording(decl: InstrumentDecl) -> dict[str, dict]:
    """language -> the load_wording layout (title, instructions, items, anchors, choices)."""
    out = {}
    for lang in sorted(decl.languages() - {"en"}):
        out[lang] = {
            "title": "",
            "instructions": decl.recall.get(lang, ""),
            "items": {i.id: i.text[lang] for i in decl.items},
            "anchors": {i.id: list(i.anchors[lang]) for i in decl.items if lang in i.anchors},
            "choices": {
                i.id: {str(c.code): c.label[lang] for c in i.choices}
                for i in decl.items
                if i.choices
            },
        }
    return out


def _scorer(item_ids: tuple[str, ...]):
    def score(answers: base.Answers) -> base.Scores:
        return {i: answers.get(i) if base.answered(answers, i) else None for i in item_ids}

    return score


def build(decl: InstrumentDecl) -> base.Instrument:
    items = tuple(_item(i) for i in decl.items)
    rule = f"The item's value as answered; missing if unanswered ({decl.source})."
    return base.Instrument(
        code=decl.code,
        version=decl.version,
        name=decl.name,
        respondent=decl.respondent,
        items=items,
        scores=tuple(
            base.ScoreDef(
                i.id,
                i.text,
                min=i.min if i.kind in ("scale", "number") else None,
                max=i.max if i.kind in ("scale", "number") else None,
                rule=rule,
                labels={c.code: c.label for c in i.choices},
            )
            for i in items
            if i.kind not in (base.MULTI, base.DATE)
        ),
        score_fn=_scorer(tuple(i.id for i in items if i.kind not in (base.MULTI, base.DATE))),
        recall=decl.recall.get("en", ""),
        source=decl.source,
        options={"declared": True, "wording": _wording(decl)},
    )


def register_declared(raw: list) -> list[base.Instrument]:
    """Validate and register a protocol file's ``[[instruments]]``; a declaration that
    differs from one already registered under the same code and version is an error
    (registry.register), so two files cannot give one version two meanings."""
    return [register(build(InstrumentDecl.model_validate(r))) for r in raw]


def load_shipped() -> None:
    for path in sorted(SHIPPED.glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        register_declared(catalogue.declarations(raw.get("instruments", [])))
