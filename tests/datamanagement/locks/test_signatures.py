"""An investigator signs a casebook or a timepoint: password again, the meaning statement,
who/when/meaning/SHA-256 recorded; a later change to any signed value breaks it (computed
on read, so even a write that bypasses save() breaks it)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from datamanagement.canonical import sha256_of
from datamanagement.signatures import services as signatures
from datamanagement.signatures.models import Signature
from questionnaires.models import Response
from questionnaires.services.saving import correct_response
from tests.conftest import use_betterback_built_once

from .conftest import PASSWORD, nrs_3m

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_signing_needs_the_password_and_the_meaning(participant, investigator, client):
    client.force_login(investigator)
    url = reverse("datamanagement:sign", args=[participant.study_id])
    page = client.get(url).content.decode()
    assert escape(signatures.meaning_statement()) in page
    r = client.post(url, {"password": "wrong", "confirm": "1"})
    assert r.status_code == 400 and "The password is not correct." in r.content.decode()
    r = client.post(url, {"password": PASSWORD})
    assert r.status_code == 400 and "Confirm the meaning" in r.content.decode()
    assert not Signature.objects.exists()
    r = client.post(url, {"password": PASSWORD, "confirm": "1"})
    assert r.status_code == 302
    s = Signature.objects.get()
    assert s.signed_by == investigator and s.timepoint is None
    assert s.meaning == signatures.meaning_statement()
    assert s.values_sha256 == sha256_of(signatures.signed_values(participant))
    assert len(s.values) == 1 + 4  # the enrolment fields and four forms
    assert not signatures.is_broken(s)


def test_a_change_to_a_signed_value_breaks_the_signature(participant, investigator,
                                                         coordinator, client):
    casebook = signatures.sign(participant, investigator, PASSWORD, confirmed=True)
    baseline = signatures.sign(participant, investigator, PASSWORD, confirmed=True,
                               timepoint=nrs_3m(participant).timepoint.__class__.objects.get(
                                   trial=participant.trial, code="baseline"))
    response = nrs_3m(participant)
    correct_response(response, {**response.answers, "back": 0}, "typo", coordinator)
    assert signatures.is_broken(casebook)
    assert not signatures.is_broken(baseline)  # the 3-month form is not in it
    client.force_login(investigator)
    page = client.get(reverse("participant_detail", args=[participant.study_id])).content
    assert page.count(b"signature-broken") == 1 and page.count(b"signature-valid") == 1
    # A write past save() (a bulk update) breaks it too: the hash is taken again on read.
    Response.objects.filter(participant=participant, timepoint__code="baseline",
                            instrument="odi").update(answers={"q1": 0})
    assert signatures.is_broken(baseline)


def test_only_the_investigator_signs(participant, data_manager, monitor, client):
    url = reverse("datamanagement:sign", args=[participant.study_id])
    for user in (data_manager, monitor):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_a_wrong_password_keeps_the_ticked_statement(participant, investigator, client):
    client.force_login(investigator)
    url = reverse("datamanagement:sign", args=[participant.study_id])
    assert 'id="id_confirm" checked' not in client.get(url).content.decode()
    r = client.post(url, {"password": "wrong", "confirm": "1"})
    assert r.status_code == 400
    assert 'id="id_confirm" checked' in r.content.decode()
    r = client.post(url, {"password": "wrong"})
    assert 'id="id_confirm" checked' not in r.content.decode()


def test_the_timepoints_are_named_in_the_readers_language(participant, investigator, client):
    """A Swedish investigator reads "3 månader", in the statement they sign too."""
    from django.utils import translation

    client.force_login(investigator)
    participant_page = reverse("datamanagement:participant", args=[participant.study_id])
    sign_page = reverse("datamanagement:sign", args=[participant.study_id]) + "?timepoint=3m"
    for url in (participant_page, sign_page):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
        assert "3 månader" in page and "3 months" not in page, url
    three_months = nrs_3m(participant).timepoint
    with translation.override("sv"):
        signed = signatures.sign(
            participant, investigator, PASSWORD, confirmed=True, timepoint=three_months
        )
    assert "3 månader" in signed.meaning
    page = client.get(participant_page, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "3 månader" in page and "3 months" not in page
