"""Staff pages are in the staff member's language: for a Swedish (Danish) coordinator the
monitoring dashboard with its figures, the participant lists, the trial overview and the
staff pages show no English phrase that the catalog translates.

The check is generic: every text node of the page (and the words in title, placeholder
and aria-label attributes) is compared with every English message the Swedish catalog
has a translation for (a message with placeholders matches any filling). What the
protocol names (trials, clinics, arms, timepoints), study IDs and instrument codes are
data, not messages, so they are never compared."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from gettext import GNUTranslations
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from enrolment.models import Clinic, ScreeningRecord
from tests.conftest import use_betterback_built_once
from tests.factories import TrialRoleFactory, UserFactory, enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

ROOT = Path(__file__).resolve().parents[1]
ATTRIBUTES = ("title", "placeholder", "aria-label")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


class _Text(HTMLParser):
    """The text a user reads: text nodes outside script and style, and the attributes a
    browser shows (tooltips, placeholders, labels read aloud). Text in <code> is an
    identifier (a column name such as ``died``, a command), not a message."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code"):
            self._skip += 1
        for name, value in attrs:
            if name in ATTRIBUTES and value:
                self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    texts = (" ".join(t.split()) for t in parser.texts)
    return [t.strip(" ·:.(),←") for t in texts if t.strip(" ·:.(),←")]


@cache
def english_messages(language: str) -> list[tuple[str, re.Pattern]]:
    """(msgid, pattern) of every message the catalog translates into something else."""
    path = ROOT / "locale" / language / "LC_MESSAGES" / "django.mo"
    with path.open("rb") as f:
        catalog = GNUTranslations(f)._catalog
    out = {}
    # A word the language writes as English does ("SMS"), or that translates another
    # message ("Form", Swedish for the export's "Shape"), is not English left.
    same = set(catalog.values())
    for key, text in catalog.items():
        msgid = key[0] if isinstance(key, tuple) else key
        msgid = msgid.split("\x04")[-1]  # drop a context
        if not msgid or not text or text == msgid or msgid in same:
            continue
        msgid = " ".join(msgid.split()).strip(" ·:.(),←")
        if len(msgid) < 2 or not re.search(r"[A-Za-z]{2}", PLACEHOLDER.sub("", msgid)):
            continue
        pieces = PLACEHOLDER.split(msgid)
        # split() interleaves the placeholders' names: even pieces are the text
        pattern = ".+?".join(re.escape(p) for p in pieces[::2])
        out[msgid] = re.compile(pattern)
    return sorted(out.items())


def english_left(html: str, language: str = "sv", data: frozenset = frozenset()) -> set[str]:
    """The English messages found word for word as a text of the page, less ``data``:
    what the protocol file names in one language only (an arm called "Usual care")."""
    texts = set(visible_texts(html)) - data
    return {
        msgid
        for msgid, pattern in english_messages(language)
        for text in texts
        if pattern.fullmatch(text)
    }


def protocol_words(trial) -> frozenset:
    """The protocol file's own words, written in one language (arm names, eligibility
    criteria). Timepoint labels are not among them: the protocol gives them per
    language, and staff pages show the user's."""
    return frozenset(
        [a.label for a in trial.arms.all()]
        + list(trial.eligibility.values_list("text", flat=True))
    )


@pytest.fixture
def trial(betterback, coordinator):
    west = Clinic.objects.get(cluster__trial=betterback, code="MOT")
    east = Clinic.objects.filter(cluster__trial=betterback).exclude(pk=west.pk).first()
    for clinic, day in (
        (west, date(2017, 5, 2)),
        (west, date(2017, 6, 8)),
        (east, date(2017, 9, 4)),
    ):
        enrol(clinic, enrolled_on=day, user=coordinator)
    ScreeningRecord.objects.create(
        trial=betterback,
        clinic=east,
        screened_on=date(2017, 9, 5),
        screened_by=coordinator,
        unmet_criteria=list(betterback.eligibility.values_list("code", flat=True)[:1]),
        outcome=ScreeningRecord.INELIGIBLE,
    )
    return betterback


def _pages(trial, member) -> dict[str, str]:
    code = trial.code
    participant = trial.participants.order_by("study_id").first()
    return {
        "overview": reverse("trial_overview", args=[code]),
        "participants": reverse("participant_list", args=[code]),
        "dashboard": reverse("monitoring_dashboard", args=[code]) + "?today=2018-03-01",
        "dashboard list": reverse("monitoring_participants", args=[code, "contacts"])
        + "?status=overdue",
        "double entries": reverse("monitoring_participants", args=[code, "double-entry"]),
        "clinics": reverse("monitoring_clinics", args=[code]),
        "staff": reverse("staff_list", args=[code]),
        "staff member": reverse("staff_member", args=[code, member.pk]),
        "invite": reverse("staff_invite", args=[code]),
        "screening log": reverse("screening_log", args=[code]),
        "participant": reverse("participant_detail", args=[participant.study_id]),
        "audit trail": reverse("participant_history", args=[participant.study_id]),
        "analysis": reverse("analysis_home", args=[code]),
        "sample size": reverse("analysis_sample_size", args=[code]),
    }


@pytest.mark.parametrize("language", ["sv", "da"])
def test_no_english_is_left_on_the_staff_pages(client, trial, coordinator, language):
    member = UserFactory(username="mia")
    TrialRoleFactory(user=member, trial=trial, role="monitor")
    client.force_login(coordinator)
    left = {}
    for name, url in _pages(trial, member).items():
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, name
        assert f'<html lang="{language}">' in response.content.decode(), name
        found = english_left(response.content.decode(), language, protocol_words(trial))
        if found:
            left[name] = sorted(found)
    assert not left, left


def test_the_administrators_pages_are_swedish_too(admin_client):
    left = {}
    for url in (reverse("access_log"), reverse("lockouts")):
        response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="sv")
        assert response.status_code == 200, url
        if found := english_left(response.content.decode()):
            left[url] = sorted(found)
    assert not left, left


def test_the_check_finds_english_where_there_is_english(client, trial, coordinator):
    """The same pages in English: the check finds the headings it looks for, so an
    empty result above means Swedish, not a check that sees nothing."""
    client.force_login(coordinator)
    page = client.get(
        reverse("monitoring_dashboard", args=[trial.code]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    found = english_left(page)
    assert {"Recruitment", "Follow-up", "Data quality", "CONSORT flow", "Response rate"} <= found
    assert len(found) > 40


def test_the_swedish_dashboard_says_it_in_swedish(client, trial, coordinator):
    client.force_login(coordinator)
    page = client.get(
        reverse("monitoring_dashboard", args=[trial.code]) + "?today=2018-03-01",
        HTTP_ACCEPT_LANGUAGE="sv",
    ).content.decode()
    texts = set(visible_texts(page))
    for swedish in ("Rekrytering", "Uppföljning", "Datakvalitet", "CONSORT-flöde", "Inkluderad"):
        assert swedish in texts
    assert any(t.startswith("Bedömda för behörighet (n=") for t in texts)  # the figure


def test_the_consort_file_for_the_paper_stays_english(client, trial, coordinator):
    client.force_login(coordinator)
    svg = client.get(
        reverse("monitoring_consort", args=[trial.code, "svg"]), HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode()
    assert "Assessed for eligibility (n=" in svg
    assert "Bedömda" not in svg


def test_a_staff_member_chooses_the_language_whatever_the_browser_says(client, coordinator):
    """A walk found no way to choose: the language followed the browser alone. The choice
    is offered on the login page and on every staff page, and kept for the session."""
    login = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="language-form"' in login and 'value="sv"' in login
    response = client.post(reverse("set_language"), {"language": "sv", "next": "/"},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response.url == "/"
    client.force_login(coordinator)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert "Logga ut" in page and "Log out" not in page
    assert '<option value="sv" lang="sv" selected>' in page
    client.post(reverse("set_language"), {"language": "da", "next": "/"})
    danish = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="sv", follow=True)
    assert "Log ud" in danish.content.decode()
