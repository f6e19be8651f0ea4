"""The patient's survey page under stress: the same page sent three times at once, and
the database going away between opening the page and sending it. Nothing the patient
entered is lost, and what they read is in their own language."""

from __future__ import annotations

import io
import logging
import re
import threading
from html import unescape

import pytest
from django.db import connection
from django.test import Client

from followup.tokens import hash_token, token_for
from questionnaires.instruments import for_trial
from questionnaires.models import Response

from ..factories import enrol
from ..questionnaires.engine_helpers import as_post, valid_answers
from .conftest import three_months_ago


def open_link(clinic, language="sv"):
    participant = enrol(clinic, enrolled_on=three_months_ago(), preferred_language=language)
    contact = participant.contacts.get(timepoint__code="3m")
    token = token_for(contact)
    contact.token_hash = hash_token(token)
    contact.save(update_fields=["token_hash"])
    return participant, contact, f"/s/{token}/1/"


def first_page_post(contact) -> dict:
    first = for_trial(contact.timepoint.trial, contact.timepoint.instruments[0])
    return as_post(valid_answers(first), action="next")


@pytest.mark.django_db(transaction=True)
def test_the_same_page_sent_three_times_at_once_is_stored_once(clinic_west):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL; CI runs this against PostgreSQL")
    participant, contact, page = open_link(clinic_west)
    data = first_page_post(contact)
    barrier, answers, errors = threading.Barrier(3), [], []

    def send():
        client = Client()
        try:
            barrier.wait()
            answers.append(client.post(page, data))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    next_page = page.replace("/1/", "/2/")
    assert sorted((a.status_code, a["Location"]) for a in answers) == [(302, next_page)] * 3
    stored = Response.objects.get(participant=participant, timepoint=contact.timepoint)
    assert stored.is_complete and stored.history.count() == 1


class DatabaseDown:
    """The database refuses connections for the length of the block: the connection's
    address is pointed at a closed port (PostgreSQL) or an unreachable file (SQLite),
    as a wrong DATABASE_URL or a stopped server would. The open connection is set aside,
    not closed (an in-memory SQLite test database would vanish with it), and put back."""

    def __enter__(self):
        self.saved = dict(connection.settings_dict)
        self.live = connection.connection
        connection.connection = None
        if connection.vendor == "postgresql":
            connection.settings_dict.update(HOST="127.0.0.1", PORT="9")
        else:
            connection.settings_dict["NAME"] = "/nonexistent/trialsite.sqlite3"
        return self

    def __exit__(self, *exc):
        connection.settings_dict.clear()
        connection.settings_dict.update(self.saved)
        connection.connection = self.live


def hidden_fields(html: str) -> list[tuple[str, str]]:
    return [
        (unescape(n), unescape(v))
        for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', html)
    ]


@pytest.mark.django_db(transaction=True)
def test_answers_sent_during_an_outage_come_back_in_swedish_and_can_be_sent_again(
    clinic_west, coordinator, caplog
):
    participant, contact, page = open_link(clinic_west, language="sv")
    client = Client(raise_request_exception=False)
    opened = client.get(page).content.decode()
    assert 'name="respondent_language" value="sv"' in opened
    data = {**first_page_post(contact), "respondent_language": "sv"}
    with DatabaseDown(), caplog.at_level(logging.ERROR, logger="django.request"):
        down = client.post(page, data)
    html = down.content.decode()
    [logged] = [r for r in caplog.records if r.name == "django.request"]
    assert logged.exc_info is None and "database unavailable" in logged.getMessage()
    assert down.status_code == 503 and down["Retry-After"]
    assert 'lang="sv"' in html and "Dina svar är inte sparade ännu" in html
    assert "Skicka igen" in html and "Server Error" not in html
    kept = hidden_fields(html)
    assert sorted(kept) == sorted((k, v) for k, v in data.items())
    assert not Response.objects.filter(participant=participant).exists()
    # The database is back: "Send again" posts the kept answers, and they are saved.
    again = client.post(re.search(r'action="([^"]+)"', html).group(1), dict(kept))
    assert again.status_code == 302 and again["Location"].endswith("/2/")
    stored = Response.objects.get(participant=participant, timepoint=contact.timepoint)
    assert stored.is_complete and stored.answers == valid_answers(
        for_trial(contact.timepoint.trial, contact.timepoint.instruments[0])
    )
    # Staff pages say what happened, in plain words.
    client.force_login(coordinator)
    with DatabaseDown():
        down = client.get("/")
    assert down.status_code == 503
    assert "The database is not reachable" in down.content.decode()
    extract = io.BytesIO(b"study_id\n")
    extract.name = "extract.csv"
    with DatabaseDown():
        down = client.post("/analysis/betterback/registry/", {"file": extract, "note": "v2"})
    assert down.status_code == 503 and "choose it again" in down.content.decode()
    assert ("note", "v2") in hidden_fields(down.content.decode())
