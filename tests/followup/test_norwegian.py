"""selfBACK in Norway: a participant who prefers Norwegian (Bokmål) gets the invitation
email, the questionnaire pages and SMS replies understood in nb."""

from __future__ import annotations

import pytest

from followup import dispatch as dispatcher
from followup.sms.replies import parse_reply

from ..factories import enrol
from .conftest import clinic_of, link_path, three_months_ago

pytestmark = pytest.mark.django_db


def test_a_norwegian_participant_reads_norwegian(client, smtp, selfback):
    participant = enrol(
        clinic_of(selfback, "NO1"), enrolled_on=three_months_ago(), preferred_language="nb"
    )
    contact = participant.contacts.get(timepoint__code="3m")
    assert dispatcher.dispatch_due(contact.due_at, 10).sent == 1
    mail = smtp.received[-1]
    assert mail.subject.strip() == "Oppfølgingsspørreskjemaet ditt i ryggsmertestudien"
    assert "Hei," in mail.text and "Åpne den personlige lenken din" in mail.text
    page = client.get(client.get(link_path(mail.text)).url).content.decode()
    assert 'lang="nb"' in page and "3 måneder" in page
    assert "Spørreskjema 1 av" in page and "Questionnaire 1 of" not in page


def test_norwegian_sms_replies_are_understood():
    assert parse_reply("åtte", language="nb").value == 8
    assert parse_reply("sju", language="nb").value == 7
    assert parse_reply("avslutt", language="nb").kind == "stop"


def test_the_norwegian_cluster_defaults_to_norwegian(selfback, tmp_path):
    from enrolment.protocol.sections import ProtocolError
    from enrolment.protocol.writing import load_protocol

    from ..conftest import PROTOCOLS

    norwegian = enrol(clinic_of(selfback, "NO1"), preferred_language="")
    danish = enrol(clinic_of(selfback, "DK1"), preferred_language="")
    assert norwegian.personal_details.preferred_language == "nb"
    assert danish.personal_details.preferred_language == "da"
    text = (PROTOCOLS / "selfback.toml").read_text(encoding="utf-8")
    path = tmp_path / "selfback.toml"
    path.write_text(text.replace('language = "nb"', 'language = "sv"'), encoding="utf-8")
    with pytest.raises(ProtocolError, match="cluster NO: language 'sv' is not in languages"):
        load_protocol(path)
