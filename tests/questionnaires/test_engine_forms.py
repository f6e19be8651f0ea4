"""The generic form builder, for every registered instrument: it renders, a valid answer
set saves and scores, and an out-of-range value is reported next to its item while the
other values are kept."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from questionnaires.forms import InstrumentForm
from questionnaires.instruments import all_instruments, base
from questionnaires.models import Response
from questionnaires.services.saving import save_answers
from questionnaires.services.scoring import compute_scores
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from .engine_helpers import as_post, valid_answers

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

INSTRUMENTS = all_instruments()


def render(form) -> str:
    request = RequestFactory().get("/")
    return Template("{% load crispy_forms_tags %}{% crispy form %}").render(
        Context({"form": form, "request": request})
    )


def out_of_range(item: base.Item):
    if item.kind in (base.SCALE, base.NUMBER):
        return item.max + 1
    if item.kind in (base.CHOICE, base.MULTI):
        return max(c.code for c in item.choices) + 100
    if item.kind == base.YESNO:
        return 2
    return None


def checkable(instrument):
    """The first item that has an out-of-range value, and another item."""
    items = [i for i in instrument.items if out_of_range(i) is not None]
    return items[0] if items else None


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: f"{i.code}-v{i.version}")
def test_every_instrument_renders_every_item(instrument):
    html = render(InstrumentForm(instrument))
    for item in instrument.items:
        assert f'name="{item.id}"' in html, item.id
    for section in {i.section for i in instrument.items if i.section}:
        assert "<legend" in html and section.split()[0] in html


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: f"{i.code}-v{i.version}")
def test_a_valid_answer_set_saves_and_scores(instrument, betterback, clinic_west):
    answers = valid_answers(instrument)
    form = InstrumentForm(instrument, as_post(answers))
    assert form.is_valid(), form.errors
    assert form.valid_answers() == answers
    participant = enrol(clinic_west)
    timepoint = betterback.timepoints.get(code="baseline")
    response = save_answers(
        instrument=instrument,
        timepoint=timepoint,
        answers=form.valid_answers(),
        complete=True,
        mode=Response.STAFF_PAPER,
        participant=participant,
    )
    response.refresh_from_db()
    assert response.answers == answers
    assert response.scores == compute_scores(instrument, answers, betterback)
    assert set(response.scores) == {s.name for s in instrument.scores}
    assert response.completed_at is not None


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: f"{i.code}-v{i.version}")
def test_out_of_range_is_shown_next_to_the_item_and_other_values_are_kept(instrument):
    bad_item = checkable(instrument)
    if bad_item is None:
        pytest.skip(f"{instrument.code} has no item with a range")
    answers = valid_answers(instrument)
    data = as_post(answers)
    bad = out_of_range(bad_item)
    data[bad_item.id] = [str(bad)] if bad_item.kind == base.MULTI else str(bad)
    form = InstrumentForm(instrument, data)
    assert not form.is_valid()
    assert list(form.errors) == [bad_item.id]
    kept = dict(answers)
    del kept[bad_item.id]
    assert form.valid_answers() == kept
    html = render(form)
    # The error is rendered inside the item's own block, and the other values stay filled in.
    block = html.split(f'id="div_id_{bad_item.id}"')[1].split('id="div_id_')[0]
    assert "invalid-feedback" in block or "is-invalid" in block
    other = next((i for i in instrument.items if i.id != bad_item.id), None)
    if other is not None and other.kind in (base.SCALE, base.CHOICE, base.YESNO):
        assert f'value="{answers[other.id]}"' in html.split(f'id="div_id_{other.id}"')[1]


def test_scale_items_are_radios_in_a_wrapping_row_with_their_anchors():
    from questionnaires.instruments import get

    html = render(InstrumentForm(get("nrs")))
    block = html.split('id="div_id_back"')[1].split('id="div_id_leg"')[0]
    assert block.count('type="radio"') == 11
    assert "flex-wrap" in block
    assert "0 = No pain" in block and "10 = Worst imaginable pain" in block
    assert "<fieldset" in block and "<legend" in block  # one group, named by the item


def test_a_wide_scale_is_a_number_box_with_its_anchors():
    from questionnaires.instruments import get

    eq = get("eq5d3l")
    vas = eq.item("vas")
    html = render(InstrumentForm(eq))
    block = html.split('id="div_id_vas"')[1]
    assert 'type="number"' in block and f'max="{vas.max}"' in block


def test_every_kind_gets_its_widget():
    kinds = {
        base.SCALE: 'type="radio"',
        base.CHOICE: 'type="radio"',
        base.MULTI: 'type="checkbox"',
        base.YESNO: 'type="radio"',
        base.DATE: 'type="date"',
        base.TEXT: "<textarea",
        base.NUMBER: 'type="number"',
    }
    items = tuple(
        base.Item(
            f"i_{kind}",
            f"Item {kind}",
            kind,
            min=0 if kind in (base.SCALE, base.NUMBER) else None,
            max=4 if kind in (base.SCALE, base.NUMBER) else None,
            choices=(base.Choice(1, "a"), base.Choice(2, "b"))
            if kind in (base.CHOICE, base.MULTI)
            else (),
        )
        for kind in kinds
    )
    inst = base.Instrument("zz_kinds", 1, "Kinds", base.PATIENT, items, (), lambda a: {})
    html = render(InstrumentForm(inst))
    for kind, marker in kinds.items():
        assert marker in html.split(f'id="div_id_i_{kind}"')[1].split("div_id_i_")[0], kind
    form = InstrumentForm(inst, {"i_date": "2017-13-40", "i_number": "x"})
    assert not form.is_valid()
    assert {"i_date", "i_number"} <= set(form.errors)
    form = InstrumentForm(inst, {})
    assert not form.is_valid()
    assert set(form.errors) == {i.id for i in items}  # required items missing
    form = InstrumentForm(inst, {}, require=False)
    assert form.is_valid()
