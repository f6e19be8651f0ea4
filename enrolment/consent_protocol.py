"""The protocol file's ``[consent]`` section: the trial's consent documents, their optional
items, which version is required now, and what happens to participants who consented to
an earlier one. Parsed and validated here; :mod:`enrolment.protocol` calls :func:`check`
when it reads a file and :func:`load` when it loads one.

::

    [consent]
    required = "2.0"              # the version new and re-consenting participants sign
    hold_until_reconsent = true   # no data collection while a re-consent is awaited
    electronic = true             # the participant may sign on the clinic's tablet or a link

    [[consent.items]]             # optional consent items, asked by the documents that list them
    code = "interview_contact"
    effect = "interview_contact"  # what the site does with the answer (see EFFECTS)
    when_not_asked = false        # the answer of someone whose document did not ask it
    label = { sv = "...", en = "..." }

    [[consent.documents]]
    version = "2.0"
    approved_on = 2017-09-01
    languages = ["sv", "en"]
    files = { sv = "consent/betterback-2.0.sv.txt", en = "consent/betterback-2.0.en.txt" }
    # or inline: text = { sv = "...", en = "..." }
    items = ["interview_contact", "registry_linkage"]
    reconsent = true              # earlier consenters must re-consent to this version
    required_from = 2             # a protocol version number, or a date

File paths are relative to the protocol file's folder (else to the shipped protocols/).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LANGUAGES = {"en", "sv", "da", "nb"}
# What an optional item can switch on or off; the protocol file maps its item codes here.
EFFECTS = {
    "registry_linkage": "registry data may be linked (analysis.registry skips those without)",
    "interview_contact": "may be contacted for an interview (consent.interview_candidates)",
    "": "recorded only",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConsentItemSpec(_Strict):
    code: str = Field(max_length=50, pattern=r"^[a-z0-9_]+$")
    effect: Literal["registry_linkage", "interview_contact", ""] = ""
    when_not_asked: bool = False
    label: dict[str, str]


class ConsentDocumentSpec(_Strict):
    version: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    approved_on: date
    languages: list[str] = Field(min_length=1)
    files: dict[str, str] = Field(default_factory=dict)
    text: dict[str, str] = Field(default_factory=dict)
    items: list[str] = Field(default_factory=list)
    reconsent: bool = True
    required_from: date | int | None = None

    @model_validator(mode="after")
    def _texts(self):
        unknown = [v for v in self.languages if v not in LANGUAGES]
        if unknown:
            raise ValueError(f"unsupported language(s) {unknown}; supported: {sorted(LANGUAGES)}")
        both = sorted(set(self.files) & set(self.text))
        if both:
            raise ValueError(f"version {self.version}: {both} given both as files and text")
        missing = sorted(set(self.languages) - set(self.files) - set(self.text))
        if missing:
            raise ValueError(f"version {self.version} has no text in {missing}")
        extra = sorted((set(self.files) | set(self.text)) - set(self.languages))
        if extra:
            raise ValueError(f"version {self.version}: text in {extra}, not in its languages")
        if isinstance(self.required_from, int) and self.required_from < 1:
            raise ValueError("required_from: a protocol version number starts at 1")
        return self


class ConsentSpec(_Strict):
    required: str
    hold_until_reconsent: bool = False
    electronic: bool = False
    items: list[ConsentItemSpec] = Field(default_factory=list)
    documents: list[ConsentDocumentSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self):
        versions = [d.version for d in self.documents]
        if len(set(versions)) != len(versions):
            raise ValueError(f"documents: duplicate version in {versions}")
        codes = [i.code for i in self.items]
        if len(set(codes)) != len(codes):
            raise ValueError(f"items: duplicate code in {codes}")
        if self.required not in versions:
            raise ValueError(f"required version {self.required!r} is not one of {versions}")
        items = {i.code: i for i in self.items}
        for doc in self.documents:
            unknown = [c for c in doc.items if c not in items]
            if unknown:
                raise ValueError(f"version {doc.version} asks unknown item(s) {unknown}")
            for code in doc.items:
                missing = sorted(set(doc.languages) - set(items[code].label))
                if missing:
                    raise ValueError(f"item {code!r} has no label in {missing}")
        numbers = [d.required_from for d in self.documents if isinstance(d.required_from, int)]
        if numbers != sorted(numbers):
            raise ValueError("documents: required_from protocol versions go down; list in order")
        return self


def check(spec, path: Path) -> list[str]:
    """Problems with the consent section's files (missing, unreadable); [] when fine."""
    if spec is None:
        return []
    problems = []
    for doc in spec.documents:
        for language, name in doc.files.items():
            try:
                _read(path, name)
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(
                    f"consent.documents version {doc.version}: {language} file {name!r}: "
                    f"{type(exc).__name__}"
                )
    return problems


SHIPPED = Path(__file__).resolve().parent.parent / "protocols"


def _read(path: Path, name: str) -> str:
    # Beside the protocol file; else among the shipped ones (a copy of a shipped file,
    # e.g. an amendment being tried out elsewhere, still finds its texts).
    here = Path(path).parent / name
    if not here.exists() and (SHIPPED / name).exists():
        here = SHIPPED / name
    return here.read_text(encoding="utf-8").strip()


def texts_of(doc: ConsentDocumentSpec, path: Path) -> dict[str, str]:
    out = dict(doc.text)
    out.update({language: _read(path, name) for language, name in doc.files.items()})
    return {k: out[k] for k in sorted(out)}


def shifted(spec, days: int):
    """The section with dates moved by ``days`` (the demo moves every calendar date)."""
    if spec is None or not days:
        return spec
    delta = timedelta(days=days)
    docs = [
        d.model_copy(
            update={
                "approved_on": d.approved_on + delta,
                "required_from": d.required_from + delta
                if isinstance(d.required_from, date)
                else d.required_from,
            }
        )
        for d in spec.documents
    ]
    return spec.model_copy(update={"documents": docs})


def load(trial, spec, path: Path, report, reason: str) -> None:
    """Write the section (policy and documents) with the protocol's ``_upsert``; a document
    on which a consent hangs is never removed."""
    from .models import ConsentDocument, ConsentPolicy
    from .protocol.sections import ProtocolError
    from .protocol.writing import _upsert

    if spec is None:
        ConsentPolicy.objects.filter(trial=trial).delete()
        return
    _upsert(
        ConsentPolicy,
        report,
        reason,
        {"trial": trial},
        {
            "required_version": spec.required,
            "hold_until_reconsent": spec.hold_until_reconsent,
            "electronic": spec.electronic,
            "items": [i.model_dump() for i in spec.items],
        },
    )
    for order, doc in enumerate(spec.documents, start=1):
        required_from = doc.required_from
        _upsert(
            ConsentDocument,
            report,
            reason,
            {"trial": trial, "version": doc.version},
            {
                "approved_on": doc.approved_on,
                "languages": doc.languages,
                "texts": texts_of(doc, path),
                "items": doc.items,
                "reconsent": doc.reconsent,
                "required_from_date": required_from if isinstance(required_from, date) else None,
                "required_from_protocol_version": required_from
                if isinstance(required_from, int)
                else None,
                "order": order,
            },
        )
    versions = {d.version for d in spec.documents}
    for old in ConsentDocument.objects.filter(trial=trial).exclude(version__in=versions):
        if old.records.exists():
            raise ProtocolError(
                path,
                [f"consent.documents: version {old.version!r} has consents; keep it in the file"],
            )
        old.delete()
