"""Shared helpers of the engine tests: a valid answer set for any instrument definition."""

from questionnaires.instruments import base


def valid_value(item: base.Item):
    """A valid answer for ``item`` (the top of the range / the last choice)."""
    if item.kind in (base.SCALE, base.NUMBER):
        return item.max
    if item.kind == base.CHOICE:
        return item.choices[-1].code
    if item.kind == base.MULTI:
        return [item.choices[0].code]
    if item.kind == base.YESNO:
        return 1
    if item.kind == base.DATE:
        return "2017-06-01"
    return "some text"


def post_value(value):
    """``value`` as a browser posts it."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def valid_answers(instrument: base.Instrument, skip=()) -> dict:
    return {i.id: valid_value(i) for i in instrument.items if i.id not in skip}


def as_post(answers: dict, **extra) -> dict:
    data = {k: post_value(v) for k, v in answers.items()}
    data.update(extra)
    return data


def checked(html: str, name: str) -> list[str]:
    """Values of the checked radios/checkboxes named ``name`` in ``html``."""
    import re

    values = []
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and re.search(r"\schecked[\s>=]", tag):
            values.append(re.search(r'value="([^"]*)"', tag).group(1))
    return values
