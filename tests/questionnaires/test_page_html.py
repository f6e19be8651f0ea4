"""The patient's questionnaire page without crispy-forms (questionnaires.page_html) is the
page crispy-forms writes: the same elements, attributes and text, for every instrument,
blank, answered, with errors (required, out of range, non-field) and with reasons."""

from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.template import Context, Template

from questionnaires import missing, reasons
from questionnaires.forms import REASON_SUFFIX, InstrumentForm
from questionnaires.instruments import base
from questionnaires.instruments.registry import all_instruments
from questionnaires.page_html import render_form

CRISPY = Template("{% load crispy_forms_tags %}{% crispy form %}")
VOID = {"input", "br", "img", "hr", "meta", "link"}


class Tree(HTMLParser):
    """Elements as (tag, sorted attributes, children); text with its whitespace collapsed."""

    def __init__(self):
        super().__init__()
        self.root = ("root", (), [])
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = (tag, tuple(sorted(attrs)), [])
        self.stack[-1][2].append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        if tag not in VOID:
            assert self.stack[-1][0] == tag, (tag, self.stack[-1][0])
            self.stack.pop()

    def handle_data(self, data):
        text = " ".join(data.split())
        if text:
            self.stack[-1][2].append(text)


def tree(html: str):
    parser = Tree()
    parser.feed(html)
    parser.close()
    return parser.root


def answer(item: base.Item):
    if item.kind in (base.SCALE, base.NUMBER):
        return item.max
    if item.kind == base.CHOICE:
        return item.choices[-1].code
    if item.kind == base.MULTI:
        return [c.code for c in item.choices[:2]]
    if item.kind == base.YESNO:
        return 0
    if item.kind == base.DATE:
        return "2018-03-04"
    return "Some <b>text</b> & more"


def wrong(item: base.Item) -> str:
    return "x" * (base.TEXT_MAX_LENGTH + 1) if item.kind == base.TEXT else "99999"


def states(instrument: base.Instrument):
    items = instrument.items
    who = reasons.RESPONDENT
    yield "blank", {"reasons_for": who}
    skippable = [i.id for i in items if reasons.allowed_reasons(i, who)]
    yield (
        "answered",
        {
            "reasons_for": who,
            "answers": {i.id: answer(i) for i in items[1:]},
            "missing": {i: missing.REFUSED for i in skippable[:1]},
        },
    )
    yield "required", {"reasons_for": who, "data": {}}
    data = {i.id: wrong(i) for i in items}
    data.update({i + REASON_SUFFIX: "on" for i in skippable})
    yield "invalid", {"reasons_for": who, "data": data, "error": "Saved a moment ago."}
    yield (
        "staff reasons, notes, hidden",
        {
            "reasons_for": reasons.STAFF,
            "require": False,
            "notes": {items[-1].id: "First visit: <3>"},
            "hide": (items[0].id,) if len(items) > 1 else (),
            "missing": {items[-1].id: missing.NOT_APPLICABLE},
        },
    )
    yield (
        "official wording",
        {
            "wording": SimpleNamespace(
                instructions="Think of <today>.",
                title="",
                items={items[0].id: "Own wording"},
                anchors={},
                choices={},
            )
        },
    )


def build(instrument, state: dict) -> InstrumentForm:
    state = dict(state)
    data, error = state.pop("data", None), state.pop("error", None)
    form = InstrumentForm(instrument, *([data] if data is not None else []), **state)
    if data is not None:
        form.is_valid()
    if error:
        form.add_error(None, error)
    return form


@pytest.mark.parametrize("instrument", all_instruments(), ids=lambda i: f"{i.code}-v{i.version}")
def test_the_patient_page_is_the_page_crispy_forms_writes(instrument):
    for name, state in states(instrument):
        lean = render_form(build(instrument, state))
        crispy = CRISPY.render(Context({"form": build(instrument, state)}))
        assert tree(lean) == tree(crispy), f"{instrument.code}: {name}"
