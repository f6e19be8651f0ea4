"""The words printed on a pack, in the respondent's language: the trial's loaded official
wording where there is one (:func:`questionnaires.services.answers.wording_for`), else our
paraphrase through the gettext catalogs, as on the web form."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext

from questionnaires.instruments import base
from questionnaires.services.answers import wording_for

from .layout import ItemWording, Section


def section_for(trial, instrument: base.Instrument, language: str) -> Section:
    with translation.override(language):
        official = wording_for(trial, instrument, language)
        items = {item.id: _item_words(item, official) for item in instrument.items}
        title = (official.title if official and official.title else "") or gettext(instrument.name)
        instruction = (official.instructions if official and official.instructions else "") or (
            gettext(instrument.recall) if instrument.recall else ""
        )
    return Section(instrument, title, instruction, items)


def _item_words(item: base.Item, official) -> ItemWording:
    text = (official.items.get(item.id) if official else "") or gettext(item.text)
    anchors = ("", "")
    if official and official.anchors.get(item.id):
        anchors = tuple(official.anchors[item.id])
    elif item.anchors:
        anchors = (gettext(item.anchors[0]), gettext(item.anchors[1]))
    own = (official.choices.get(item.id) or {}) if official else {}
    choices = {c.code: own.get(str(c.code)) or gettext(c.label) for c in item.choices}
    if item.kind == base.YESNO:
        choices = {1: gettext("Yes"), 0: gettext("No")}
    return ItemWording(text, gettext(item.help) if item.help else "", anchors, choices)
