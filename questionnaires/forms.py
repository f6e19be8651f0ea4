"""One generic form builder: an instrument definition in, a Django form out.

Item wording is our paraphrase passed through gettext (so a translation catalogue can carry
it), unless the trial loaded the official wording for the respondent's language
(:class:`questionnaires.models.InstrumentWording`), which then wins.
"""

from __future__ import annotations

import datetime as dt

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Fieldset, Layout
from django import forms
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import missing as reasons
from .instruments import base
from .reasons import RESPONDENT, allowed_reasons

REASON_SUFFIX = "__reason"

# A SCALE with more points than this is a number box (e.g. EQ VAS 0-100), not radios.
MAX_RADIO_POINTS = 11


class ScaleWidget(forms.widgets.ChoiceWidget):
    """Radio buttons in a wrapping row with the end anchors shown; native radios, so the
    arrow keys move within the row and Tab leaves it. (Not a RadioSelect subclass, so
    that crispy-forms renders it with this template rather than as a vertical list.)"""

    input_type = "radio"
    use_fieldset = True
    template_name = "questionnaires/widgets/scale.html"
    option_template_name = "questionnaires/widgets/scale_option.html"

    def __init__(self, anchors=None, **kwargs):
        super().__init__(**kwargs)
        self.anchors = anchors or ("", "")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["anchors"] = self.anchors
        return context


class InstrumentForm(forms.Form):
    """The items of one instrument as form fields named by item id.

    ``require``: required items must be answered (off for "save and continue later" and
    for paper forms, where a blank on paper is a missing answer, not an error).
    ``hide``: item ids not shown (e.g. the CRPE final-visit items at the first visit).
    ``notes``: item id -> text shown under the item (e.g. the first visit's grade).
    ``reasons_for``: who may leave items unanswered with a reason (``reasons.STAFF``: a
    choice of every reason under each item; ``reasons.RESPONDENT``: a "prefer not to
    answer" box under the items the instrument lets them skip); "" offers none.
    ``missing``: the stored reasons (item id -> code), shown as chosen.
    """

    def __init__(
        self,
        instrument: base.Instrument,
        *args,
        wording=None,
        require: bool = True,
        hide: tuple[str, ...] = (),
        notes: dict[str, str] | None = None,
        answers: dict | None = None,
        reasons_for: str = "",
        missing: dict | None = None,
        **kwargs,
    ):
        self.instrument = instrument
        self.wording = wording
        if answers is not None or missing:
            initial = initial_from_answers(instrument, answers or {})
            initial.update(initial_reasons(instrument, missing or {}, reasons_for))
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        notes = notes or {}
        self.shown_items = [item for item in instrument.items if item.id not in hide]
        for item in self.shown_items:
            field = self._field_for(item)
            field.required = require and item.required
            if item.id in notes:
                note = notes[item.id]
                field.help_text = format_html(
                    '{}<span class="d-block fw-semibold previous-answer">{}</span>',
                    field.help_text,
                    note,
                )
            self.fields[item.id] = field
            reason_field = _reason_field(item, reasons_for) if reasons_for else None
            if reason_field is not None:
                self.fields[item.id + REASON_SUFFIX] = reason_field

    @cached_property
    def helper(self) -> FormHelper:
        """crispy-forms' layout, for the staff pages (patients' pages do without it)."""
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        helper.layout = self._layout()
        return helper

    # --- wording ------------------------------------------------------------------------

    def _text(self, item: base.Item) -> str:
        if self.wording and self.wording.items.get(item.id):
            return self.wording.items[item.id]
        return gettext(item.text)

    def _anchors(self, item: base.Item) -> tuple[str, str]:
        if self.wording and self.wording.anchors.get(item.id):
            low, high = self.wording.anchors[item.id]
            return low, high
        if item.anchors:
            return gettext(item.anchors[0]), gettext(item.anchors[1])
        return "", ""

    def _choices(self, item: base.Item) -> list[tuple[int, str]]:
        own = (self.wording.choices.get(item.id) or {}) if self.wording else {}
        return [(c.code, own.get(str(c.code)) or gettext(c.label)) for c in item.choices]

    # --- fields -------------------------------------------------------------------------

    def _field_for(self, item: base.Item) -> forms.Field:
        label = self._text(item)
        help_text = gettext(item.help) if item.help else ""
        common = {"label": label, "help_text": help_text, "required": False}
        if item.kind == base.SCALE:
            low, high = self._anchors(item)
            if item.max - item.min + 1 <= MAX_RADIO_POINTS:
                return forms.TypedChoiceField(
                    choices=[(v, str(v)) for v in range(item.min, item.max + 1)],
                    coerce=int,
                    widget=ScaleWidget(anchors=(low, high)),
                    error_messages={"invalid_choice": _range_message(item)},
                    **common,
                )
            if low or high:
                common["help_text"] = f"{item.min} = {low}; {item.max} = {high}. {help_text}"
            return _integer_field(item, common)
        if item.kind == base.NUMBER:
            return _integer_field(item, common)
        if item.kind == base.CHOICE:
            return forms.TypedChoiceField(
                choices=self._choices(item),
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": gettext("Choose one of the answers shown.")},
                **common,
            )
        if item.kind == base.MULTI:
            return forms.TypedMultipleChoiceField(
                choices=self._choices(item),
                coerce=int,
                widget=forms.CheckboxSelectMultiple,
                **common,
            )
        if item.kind == base.YESNO:
            return forms.TypedChoiceField(
                choices=[(1, gettext("Yes")), (0, gettext("No"))],
                coerce=int,
                widget=forms.RadioSelect,
                **common,
            )
        if item.kind == base.DATE:
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 3}),
            max_length=base.TEXT_MAX_LENGTH,
            error_messages={
                "max_length": gettext(
                    "Please shorten your answer to at most %(limit_value)d characters "
                    "(it has %(show_value)d). Your other answers are saved."
                )
            },
            **common,
        )

    def page_parts(self) -> list[tuple[str, object]]:
        """The page in order: ("html", safe text), ("field", name) and ("section",
        (heading, [names])); the crispy layout and the patient page's own renderer
        (:mod:`questionnaires.page_html`) both follow it."""
        parts: list[tuple[str, object]] = []
        if self.wording and self.wording.instructions:
            parts.append(
                ("html", format_html('<p class="instructions">{}</p>', self.wording.instructions))
            )
        elif self.instrument.recall:
            # A whole sentence per instrument: a phrase glued into a frame does not
            # translate ("Svara för the latest week.").
            recall = gettext(self.instrument.recall)
            parts.append(("html", format_html('<p class="instructions">{}</p>', recall)))
        section, fields = None, []
        groups = []
        for item in self.shown_items:
            if item.section != section and fields:
                groups.append((section, fields))
                fields = []
            section = item.section
            fields.append(item.id)
            if item.id + REASON_SUFFIX in self.fields:
                fields.append(item.id + REASON_SUFFIX)
        if fields:
            groups.append((section, fields))
        for name, ids in groups:
            if name:
                parts.append(("section", (gettext(name), ids)))
            else:
                parts.extend(("field", field_id) for field_id in ids)
        return parts

    def _layout(self) -> Layout:
        parts = []
        for kind, value in self.page_parts():
            if kind == "html":
                parts.append(HTML(value))
            elif kind == "section":
                parts.append(Fieldset(value[0], *value[1], css_class="item-section"))
            else:
                parts.append(value)
        return Layout(*parts)

    # --- answers ------------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        for item_id, code in self._chosen_reasons(cleaned).items():
            value = to_answer(cleaned.get(item_id))
            if code is not None and base.answered({item_id: value}, item_id):
                self.add_error(
                    item_id,
                    gettext("Give either an answer or a reason why it is missing, not both."),
                )
        return cleaned

    def _chosen_reasons(self, cleaned: dict) -> dict:
        """Item id -> the reason code chosen (None: no reason), for items offering one."""
        chosen = {}
        for item in self.shown_items:
            name = item.id + REASON_SUFFIX
            if name not in self.fields or name not in cleaned:
                continue
            value = cleaned[name]
            if value is True:  # the patient's "prefer not to answer" box
                value = reasons.REFUSED
            chosen[item.id] = value if reasons.is_reason(value) else None
        return chosen

    def valid_answers(self) -> dict:
        """Answers of every shown item that passed validation (after is_valid())."""
        cleaned = getattr(self, "cleaned_data", {})
        return {
            item.id: to_answer(cleaned[item.id])
            for item in self.shown_items
            if item.id in cleaned and item.id not in self.errors
        }

    def merged_answers(self, saved: dict) -> dict:
        """The saved answers with this page's valid answers replacing them; an item whose
        new value is invalid keeps its saved value, so nothing answered is lost."""
        merged = dict(saved)
        for item_id, value in self.valid_answers().items():
            if value is None:
                merged.pop(item_id, None)
            else:
                merged[item_id] = value
        return merged

    def merged(self, saved: dict, saved_missing: dict | None = None) -> tuple[dict, dict]:
        """(answers, missing) after this page: a reason chosen replaces the item's answer, an
        answer given replaces its reason; invalid items keep what was saved."""
        answers = self.merged_answers(saved)
        missing = dict(saved_missing or {})
        for item_id, value in self.valid_answers().items():
            if value is not None:
                missing.pop(item_id, None)
        cleaned = getattr(self, "cleaned_data", {})
        for item_id, code in self._chosen_reasons(cleaned).items():
            if item_id in self.errors:
                continue
            if code is None:
                missing.pop(item_id, None)
            else:
                missing[item_id] = code
                answers.pop(item_id, None)
        return answers, missing


def _range_message(item: base.Item) -> str:
    return gettext("Choose a value from %(min)s to %(max)s.") % {"min": item.min, "max": item.max}


def _integer_field(item: base.Item, common: dict) -> forms.IntegerField:
    return forms.IntegerField(
        min_value=item.min,
        max_value=item.max,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        **common,
    )


def to_answer(value):
    """A cleaned form value as stored in Response.answers (see instruments.base)."""
    if value in (None, "", []):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return sorted(value)
    return value


def initial_from_answers(instrument: base.Instrument, answers: dict) -> dict:
    return {k: v for k, v in answers.items() if k in instrument.item_ids and v is not None}


def initial_reasons(instrument: base.Instrument, missing: dict, who: str) -> dict:
    initial = {}
    for item_id, code in missing.items():
        if item_id not in instrument.item_ids:
            continue
        if who == RESPONDENT:
            initial[item_id + REASON_SUFFIX] = code == reasons.REFUSED
        else:
            initial[item_id + REASON_SUFFIX] = code
    return initial


def _reason_field(item: base.Item, who: str) -> forms.Field | None:
    allowed = allowed_reasons(item, who)
    if not allowed:
        return None
    if who == RESPONDENT:
        return forms.BooleanField(
            label=gettext("Prefer not to answer"),
            required=False,
            widget=forms.CheckboxInput(attrs={"class": "form-check-input prefer-not"}),
        )
    return forms.TypedChoiceField(
        label=gettext("Or missing because"),
        choices=[("", "—")] + [(code, reasons.label(code)) for code in allowed],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm missing-reason"}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the change"), widget=forms.Textarea(attrs={"rows": 2}), required=True
    )
