"""The patient's questionnaire page (an :class:`~questionnaires.forms.InstrumentForm`) as
HTML, without crispy-forms.

``{% crispy form %}`` renders every field through its template pack and every radio
button through a template of its own: 40% of a survey page's time, most of the time a
patient waits for the next page (issue 19). This writes the markup the bootstrap5 pack
writes for the form's layout (:meth:`InstrumentForm.page_parts`), from the widgets'
contexts, in Python; ``tests/questionnaires/test_page_html.py`` compares the two for
every instrument, blank, answered, with errors and with reasons, so patients see the
same page. Staff pages (paper entry) keep crispy.
"""

from __future__ import annotations

from django import forms
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


def render_form(form) -> SafeString:
    out = [_form_errors(form)]
    for kind, value in form.page_parts():
        if kind == "html":
            out.append(value)
        elif kind == "section":
            heading, names = value
            out.append(format_html('<fieldset class="item-section"><legend>{}</legend>', heading))
            out.extend(_field(form[name]) for name in names)
            out.append("</fieldset>")
        else:
            out.append(_field(form[value]))
    return mark_safe(" ".join(part for part in out if part))  # noqa: S308 - parts escaped


def _form_errors(form) -> str:
    errors = form.non_field_errors()
    if not errors:
        return ""
    items = format_html_join("", "<li>{}</li>", ((e,) for e in errors))
    return format_html(
        '<div class="alert alert-block alert-danger"><ul class="m-0">{}</ul></div>', items
    )


def _add_classes(widget: forms.Widget, classes: str) -> None:
    """The classes crispy's ``crispy_field`` gives a widget: its class name, then ``classes``."""
    name = widget.__class__.__name__.lower()
    css = widget.attrs.get("class", "")
    if not css:
        css = name
    elif css.find(name) == -1:
        css += " " + name
    for extra in classes.split():
        if extra not in css.split():
            css += " " + extra
    widget.attrs["class"] = css


def _label(bound) -> str:
    star = '<span class="asteriskField">*</span>' if bound.field.required else ""
    return conditional_escape(bound.label) + star


def _help(bound) -> str:
    if not bound.help_text:
        return ""
    help_text = mark_safe(bound.help_text)  # noqa: S308 - the form's own markup, as crispy
    return format_html('<div id="{}_helptext" class="form-text">{}</div>', bound.auto_id, help_text)


def _errors(bound, tag: str) -> str:
    errors = bound.errors
    if not errors:
        return ""
    lines = "".join(
        f'<{tag} id="error_{n}_{bound.auto_id}"><strong>{conditional_escape(e)}</strong></{tag}>'
        for n, e in enumerate(errors, start=1)
    )
    field_id = getattr(errors, "field_id", "")
    return f'<div id="{field_id}_error" class="invalid-feedback">{lines}</div>'


def _field(bound) -> str:
    widget = bound.field.widget
    invalid = " is-invalid" if bound.errors else ""
    if isinstance(widget, forms.CheckboxInput):
        _add_classes(widget, "form-check-input" + invalid)
        required = " requiredField" if bound.field.required else ""
        return (
            f'<div class="mb-3"><div id="div_{bound.auto_id}" class="form-check">{bound} '
            f'<label for="{bound.id_for_label}" class="form-check-label{required}">'
            f"{_label(bound)}</label> {_errors(bound, 'span')} {_help(bound)}</div></div>"
        )
    out = [f'<div id="div_{bound.auto_id}" class="mb-3">']
    fieldset = bound.use_fieldset and bound.label
    if bound.label:
        out.append(_heading(bound))
    if isinstance(widget, forms.RadioSelect):  # and CheckboxSelectMultiple
        out.append(_choices(bound))
        out.append(_help(bound))
    else:
        if isinstance(widget, forms.Select):
            _add_classes(widget, "form-select" + invalid)
        else:
            _add_classes(widget, "form-control" + invalid)
        out.append(_scale(bound) if _is_scale(widget) else str(bound))
        out.append(_errors(bound, "span"))
        out.append(_help(bound))
    if fieldset:
        out.append("</fieldset>")
    out.append("</div>")
    return " ".join(part for part in out if part)


def _heading(bound) -> str:
    if bound.use_fieldset:
        described = bound.aria_describedby
        described = f' aria-describedby="{described}"' if described else ""
        for_ = f' for="{bound.id_for_label}"' if bound.id_for_label else ""
        required = " requiredField" if bound.field.required else ""
        return (
            f'<fieldset{described}><legend{for_} class="form-label{required} fs-6">'
            f"{_label(bound)}</legend>"
        )
    required = " requiredField" if bound.field.required else ""
    for_ = f' for="{bound.id_for_label}"' if bound.id_for_label else ""
    return f'<label{for_} class="form-label{required}">{_label(bound)}</label>'


def _options(bound, attrs: dict | None = None) -> list[dict]:
    widget = bound.field.widget
    attrs = bound.build_widget_attrs(attrs or {"id": widget.attrs.get("id") or bound.auto_id})
    groups = widget.optgroups(bound.html_name, widget.format_value(bound.value()), attrs)
    return [option for _, options, _ in groups for option in options]


def _attrs(attrs: dict) -> str:
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _choices(bound) -> str:
    """Radio buttons or check boxes, one per line (bootstrap5's radio_checkbox_select)."""
    invalid = " is-invalid" if bound.errors else ""
    options = _options(bound)
    out = ["<div >"]
    for n, option in enumerate(options, start=1):
        errors = _errors(bound, "p") if n == len(options) else ""
        out.append(
            f'<div class="form-check"><input type="{option["type"]}" class="form-check-input'
            f'{invalid}" name="{bound.html_name}" value="{conditional_escape(option["value"])}"'
            f'{_attrs(option["attrs"])}> <label for="{option["attrs"]["id"]}" '
            f'class="form-check-label">{conditional_escape(option["label"])}</label>'
            f"{' ' + errors if errors else ''}</div>"
        )
    out.append("</div>")
    return " ".join(out)


def _is_scale(widget) -> bool:
    return getattr(widget, "template_name", "") == "questionnaires/widgets/scale.html"


def _scale(bound) -> str:
    """A row of numbered buttons with the anchors under its ends (the ScaleWidget's
    ``scale.html`` and ``scale_option.html``, written out)."""
    widget = bound.field.widget
    attrs = bound.build_widget_attrs({})
    if bound.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bound.auto_id)
    context = widget.get_context(bound.html_name, bound.value(), attrs)["widget"]
    box_id = context["attrs"].get("id")
    invalid = " is-invalid" if "is-invalid" in context["attrs"].get("class", "") else ""
    options = [option for _, group, _ in context["optgroups"] for option in group]
    buttons = "\n".join(
        f'<span class="scale-option"><input type="radio" class="btn-check" '
        f'name="{option["name"]}" value="{conditional_escape(option["value"])}" '
        f'id="{option["attrs"]["id"]}"{" checked" if option["attrs"].get("checked") else ""}'
        f"{' required' if option['attrs'].get('required') else ''}><label "
        f'class="btn btn-outline-primary scale-btn" for="{option["attrs"]["id"]}">'
        f"{conditional_escape(option['label'])}</label></span>"
        for option in options
    )
    id_attr = f' id="{box_id}"' if box_id else ""
    out = [f'<div class="scale-item{invalid}"{id_attr}> <div class="scale-options"> {buttons}']
    out.append("</div>")
    low, high = context["anchors"]
    if low or high:
        anchors_id = f' id="{box_id}_anchors"' if box_id else ""
        out.append(
            '<div aria-hidden="false" class="scale-anchors d-flex flex-wrap '
            f'justify-content-between gap-2 small text-body-secondary mt-1"{anchors_id}> '
            f"<span>{conditional_escape(options[0]['label'])} = {conditional_escape(low)}</span> "
            f"<span>{conditional_escape(options[-1]['label'])} = {conditional_escape(high)}</span>"
            " </div>"
        )
    out.append("</div>")
    return " ".join(out)
