"""The Norwegian (Bokmål) catalog is complete: every message the Swedish or the Danish
catalog translates has a Norwegian translation too, with the same placeholders, and the
site offers nb. A Norwegian selfBACK participant gets Norwegian pages, emails and SMS."""

from __future__ import annotations

import re
from gettext import GNUTranslations
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def catalog(language: str) -> dict:
    path = ROOT / "locale" / language / "LC_MESSAGES" / "django.mo"
    with path.open("rb") as f:
        return {k: v for k, v in GNUTranslations(f)._catalog.items() if k and v}


def test_the_norwegian_catalog_translates_what_swedish_and_danish_do():
    nb = catalog("nb")
    wanted = set(catalog("sv")) | set(catalog("da"))
    missing = sorted(str(k) for k in wanted - set(nb))
    assert len(wanted) > 400
    assert not missing, f"{len(missing)} messages untranslated in nb:\n" + "\n".join(missing)


def test_the_norwegian_placeholders_match_the_english():
    wrong = []
    for key, text in catalog("nb").items():
        msgid = key[0] if isinstance(key, tuple) else key
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text)):
            wrong.append(f"{msgid!r} -> {text!r}")
    assert not wrong, "\n".join(wrong)


def test_the_compiled_catalog_is_up_to_date():
    po = ROOT / "locale" / "nb" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    assert mo.stat().st_mtime >= po.stat().st_mtime - 1


def test_the_site_offers_norwegian():
    assert "nb" in dict(settings.LANGUAGES)
