"""The study half of an ODM file: events for timepoints, forms and item groups for
instruments, items with data types and range checks, code lists with the instruments'
choices, and the derivations of scores as methods. Plain data in, XML text out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from questionnaires import missing
from questionnaires.instruments import base

from . import oids

# A score kept as text (the EQ-5D health state), not as a number.
TEXT_SCORES = {"profile"}


@dataclass(frozen=True)
class Event:
    code: str
    name: str
    forms: tuple[tuple[str, int], ...]  # (instrument, version)
    repeating: bool = False


def text(value: str, lang: str = "en") -> str:
    return f"<TranslatedText xml:lang={quoteattr(lang)}>{escape(str(value))}</TranslatedText>"


def data_type(item: base.Item) -> str | None:
    """ODM's DataType of an item; None for free text, which is never exported (it may
    carry names)."""
    if item.kind == base.TEXT:
        return None
    if item.kind == base.DATE:
        return "date"
    if item.kind == base.MULTI:
        return "text"  # the codes chosen, "1;3", as in the other exports
    return "integer"


def exported_items(ins: base.Instrument) -> list[base.Item]:
    return [i for i in ins.items if data_type(i) is not None]


def _code_list_items(item: base.Item) -> list[tuple[int, str]]:
    if item.kind in (base.CHOICE, base.MULTI):
        return [(c.code, c.label) for c in item.choices]
    if item.kind == base.YESNO:
        return [(1, "Yes"), (0, "No")]
    return []


def _range_checks(item: base.Item) -> str:
    if item.kind not in (base.SCALE, base.NUMBER):
        return ""
    return "".join(
        f'<RangeCheck Comparator="{cmp}" SoftHard="Hard"><CheckValue>{value}</CheckValue>'
        "</RangeCheck>"
        for cmp, value in (("GE", item.min), ("LE", item.max))
    )


def _question(item: base.Item) -> str:
    wording = item.text
    if item.kind == base.SCALE and item.anchors:
        wording += f" ({item.min} = {item.anchors[0]}, {item.max} = {item.anchors[1]})"
    return f"<Question>{text(wording)}</Question>"


def form_def(ins: base.Instrument) -> str:
    code, version = ins.code, ins.version
    return (
        f"<FormDef OID={quoteattr(oids.form(code, version))} "
        f"Name={quoteattr(f'{ins.name} (version {version})')} Repeating=\"No\">"
        f"<ItemGroupRef ItemGroupOID={quoteattr(oids.item_group(code, version))} "
        'Mandatory="Yes"/></FormDef>'
    )


def item_group_def(ins: base.Instrument) -> str:
    code, version = ins.code, ins.version
    refs = []
    for n, item in enumerate(exported_items(ins), start=1):
        mandatory = "Yes" if item.required else "No"
        refs.append(
            f"<ItemRef ItemOID={quoteattr(oids.item(code, version, item.id))} "
            f'OrderNumber="{n}" Mandatory="{mandatory}"/>'
        )
    start = len(refs)
    for n, score in enumerate(ins.scores, start=start + 1):
        refs.append(
            f"<ItemRef ItemOID={quoteattr(score_oid(ins, score.name))} OrderNumber=\"{n}\" "
            f'Mandatory="No" MethodOID={quoteattr(method_oid(ins, score.name))}/>'
        )
    return (
        f"<ItemGroupDef OID={quoteattr(oids.item_group(code, version))} "
        f"Name={quoteattr(ins.name)} Repeating=\"No\">" + "".join(refs) + "</ItemGroupDef>"
    )


def item_defs(ins: base.Instrument) -> Iterator[str]:
    code, version = ins.code, ins.version
    for item in exported_items(ins):
        choices = _code_list_items(item)
        code_list_ref = (
            f"<CodeListRef CodeListOID={quoteattr(oids.code_list(code, version, item.id))}/>"
            if choices
            else ""
        )
        yield (
            f"<ItemDef OID={quoteattr(oids.item(code, version, item.id))} "
            f"Name={quoteattr(f'{code}_{item.id}')} DataType=\"{data_type(item)}\">"
            f"{_question(item)}{_range_checks(item)}{code_list_ref}</ItemDef>"
        )
    for score in ins.scores:
        kind = "text" if score.name in TEXT_SCORES else "float"
        labels = f" ({'; '.join(f'{k} = {v}' for k, v in score.labels.items())})" if (
            score.labels
        ) else ""
        yield (
            f"<ItemDef OID={quoteattr(score_oid(ins, score.name))} "
            f"Name={quoteattr(f'{code}_{score.name}')} DataType=\"{kind}\">"
            f"<Description>{text(score.label + labels)}</Description></ItemDef>"
        )


def score_oid(ins: base.Instrument, name: str) -> str:
    return oids.item(ins.code, ins.version, f"SCORE.{name}")


def method_oid(ins: base.Instrument, name: str) -> str:
    return f"MT.{ins.code.upper()}.V{ins.version}.{name.upper()}"


def code_lists(ins: base.Instrument) -> Iterator[str]:
    for item in exported_items(ins):
        choices = _code_list_items(item)
        if not choices:
            continue
        entries = "".join(
            f'<CodeListItem CodedValue="{value}"><Decode>{text(label)}</Decode></CodeListItem>'
            for value, label in choices
        )
        yield (
            f"<CodeList OID={quoteattr(oids.code_list(ins.code, ins.version, item.id))} "
            f"Name={quoteattr(f'{ins.code}_{item.id}')} DataType=\"integer\">{entries}</CodeList>"
        )


def methods(ins: base.Instrument) -> Iterator[str]:
    for score in ins.scores:
        rule = score.rule or ins.source or f"{ins.name}: {score.label}"
        yield (
            f"<MethodDef OID={quoteattr(method_oid(ins, score.name))} "
            f"Name={quoteattr(f'{ins.code} {score.name}')} Type=\"Computation\">"
            f"<Description>{text(rule)}</Description></MethodDef>"
        )


def missing_code_list() -> str:
    entries = "".join(
        f'<CodeListItem CodedValue="{code}"><Decode>{text(missing.label(code))}</Decode>'
        "</CodeListItem>"
        for code in sorted(missing.REASONS, reverse=True)
    )
    return (
        f'<CodeList OID="{oids.MISSING_CODES}" Name="Reason for a missing value" '
        f'DataType="integer">{entries}</CodeList>'
    )


def labelled_code_list(oid: str, name: str, kind: str, labels: Iterable[tuple]) -> str:
    entries = "".join(
        f"<CodeListItem CodedValue={quoteattr(str(value))}><Decode>{text(label)}</Decode>"
        "</CodeListItem>"
        for value, label in labels
    )
    return f'<CodeList OID="{oid}" Name={quoteattr(name)} DataType="{kind}">{entries}</CodeList>'
