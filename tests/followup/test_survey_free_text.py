"""Free text through the no-login survey link has a limit (issue 13, finding 7): an
answer over it is refused with a message in the patient's language, and the page keeps
everything else they entered."""

import pytest

from followup.tokens import token_for
from questionnaires.instruments import base, get
from questionnaires.models import Response
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from ..questionnaires.engine_helpers import as_post, valid_answers
from .conftest import dispatch_now, three_months_ago

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_an_overlong_free_text_is_refused_in_swedish_and_the_rest_is_kept(client, clinic_west):
    patient = enrol(clinic_west, enrolled_on=three_months_ago(), preferred_language="sv")
    contact = patient.contacts.get(timepoint__code="3m")
    dispatch_now(contact)
    page = contact.timepoint.instruments.index("bipq") + 1
    url = f"/s/{token_for(contact)}/{page}/"
    answers = valid_answers(get("bipq"))
    long_text = "orsak " * 1000  # 6,000 characters
    r = client.post(url, as_post({**answers, "q9": long_text}, action="next"))
    assert r.status_code == 200  # the same page again, not the next one
    html = r.content.decode()
    assert f"Korta ditt svar till högst {base.TEXT_MAX_LENGTH} tecken" in html
    assert "Dina övriga svar är sparade" in html
    assert long_text.strip() in html  # what they wrote is still there to shorten
    saved = Response.objects.get(participant=patient, instrument="bipq").answers
    assert saved["q1"] == answers["q1"] and saved["q8"] == answers["q8"]
    assert "q9" not in saved

    r = client.post(url, as_post({**answers, "q9": "stress\nlyft"}, action="next"))
    assert r.status_code == 302
    saved = Response.objects.get(participant=patient, instrument="bipq").answers
    assert saved["q9"] == "stress\nlyft"
