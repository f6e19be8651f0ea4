"""The coordinators' SMS page names each reply's question as the protocol labels it, in
the reader's language, not by its code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from enrolment.protocol.reading import read_protocol
from enrolment.protocol.sections import ProtocolError
from followup.models import SmsPrompt
from followup.sms import tracking

from .conftest import PROTOCOLS, use_safe_built_once
from .test_sms_tracking import person, reply

safe = use_safe_built_once()
pytestmark = pytest.mark.django_db


def _replied(safe, sms):
    p = person(safe)
    prompt = SmsPrompt.objects.filter(participant=p).order_by("week").first()
    tracking.run(now=prompt.due_at)
    reply(p, "4", prompt.due_at + timedelta(minutes=5))
    return p


def _replies_table(client, language):
    client.force_login(get_user_model().objects.get(username="safe-coord"))
    page = client.get(
        reverse("followup_sms", args=["safe"]), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    return page.split('id="replies"', 1)[1]


@pytest.mark.parametrize(
    "language, label", [("en", "Back pain (0-10)"), ("da", "Rygsmerter (0-10)")]
)
def test_a_reply_names_its_question_by_the_protocols_label(safe, sms, client, language, label):
    _replied(safe, sms)
    table = _replies_table(client, language)
    assert f'<td class="question">{label}</td>' in table
    assert '<td class="question">pain</td>' not in table


def test_without_a_label_the_question_is_named_by_its_code(safe, sms, client):
    schedule = safe.sms_schedule
    schedule.questions = [{k: v for k, v in q.items() if k != "label"} for q in schedule.questions]
    schedule.save()
    _replied(safe, sms)
    assert '<td class="question">pain</td>' in _replies_table(client, "en")


def test_a_label_in_a_language_the_site_does_not_speak_is_refused(tmp_path):
    text = (PROTOCOLS / "safe.toml").read_text()
    bad = tmp_path / "safe.toml"
    bad.write_text(text.replace('label.en = "Back pain (0-10)"', 'label.fr = "Douleur"', 1))
    with pytest.raises(ProtocolError, match="sms question 'pain': label languages"):
        read_protocol(bad)
