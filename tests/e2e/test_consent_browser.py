"""An amendment requires consent version 2.0: the coordinator sees who must re-consent,
one participant's data collection is held until the coordinator records the re-consent,
and another signs electronically on the clinic's tablet (a 390-px phone-sized screen),
which leaves the PDF of what was shown and answered, with its SHA-256."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pypdfium2
import pytest
from django.utils import timezone

from enrolment.consent.reading import current
from enrolment.models import ElectronicConsent
from enrolment.protocol.writing import load_protocol
from followup import dispatch as dispatcher
from followup import reach
from followup.models import Contact
from followup.schedule import add_months
from followup.tokens import hash_token, token_for

from ..conftest import PROTOCOLS
from ..factories import enrol
from .conftest import submit_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _amend(tmp_path):
    text = (PROTOCOLS / "betterback.toml").read_text(encoding="utf-8")
    path = tmp_path / "betterback.toml"
    path.write_text(text.replace('required = "1.0"', 'required = "2.0"'), encoding="utf-8")
    return load_protocol(path)[0]


def _link(participant) -> str:
    contact = Contact.objects.get(participant=participant, timepoint__code="3m")
    token = token_for(contact)
    Contact.objects.filter(pk=contact.pk).update(token_hash=hash_token(token))
    return f"/s/{token}/"


def _status(participant) -> str:
    return Contact.objects.get(participant=participant, timepoint__code="3m").status


def test_reconsent_after_an_amendment_and_an_electronic_consent_on_the_tablet(
    browser, live_server, coordinator, clinic_west, tmp_path
):
    # Enrolled three months ago on version 1.0: the 3-month questionnaire is due now.
    held, tablet = (
        enrol(clinic_west, enrolled_on=add_months(date.today(), -3), preferred_language=lang)
        for lang in ("en", "sv")
    )
    trial = _amend(tmp_path)

    staff = browser.new_page(viewport={"width": 1100, "height": 1000})
    staff.goto(f"{live_server.url}/trials/{trial.code}/reconsent/")
    staff.fill("#id_username", "coordinator")
    staff.fill("#id_password", "correct horse battery staple")
    submit_login(staff, "coordinator")
    rows = staff.locator("#awaiting-reconsent tr.awaiting")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.studyId)")) == sorted(
        [held.study_id, tablet.study_id]
    )
    assert staff.locator("#awaiting-reconsent .badge").all_inner_texts() == ["held", "held"]

    # Held: no invitation, and the link shows a neutral page on the phone.
    # The invitation goes out at the due time (09:00 in Stockholm today), maybe still ahead.
    due = Contact.objects.filter(participant=held, timepoint__code="3m").get().next_action_at
    # On the real clock: at the first moment the trial's quiet hours allow.
    at = reach.next_allowed(trial, max(timezone.now(), due))
    stats = dispatcher.dispatch_due(at, 50)
    assert stats.invitations == 0 and stats.consent_held == 2
    assert _status(held) == Contact.SCHEDULED
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(f"{live_server.url}{_link(held)}")
    assert phone.locator("#not-available-now").is_visible()
    text = phone.inner_text("body").lower()
    assert "intervention" not in text and "control" not in text

    # The coordinator records the paper re-consent.
    staff.click(f'tr[data-study-id="{held.study_id}"] a.btn')
    staff.wait_for_selector("#record-reconsent")
    staff.select_option("#record-reconsent #id_version", "2.0")
    staff.fill("#record-reconsent #id_given_on", date.today().isoformat())
    staff.check("#record-reconsent #id_item_interview_contact")
    staff.check("#record-reconsent #id_item_registry_linkage")
    staff.click("#record-reconsent button[type=submit]")
    staff.wait_for_selector('#consent-history tr[data-kind="reconsent"]')
    assert current(held).answers == {"interview_contact": True, "registry_linkage": True}
    assert dispatcher.dispatch_due(
        reach.next_allowed(trial, at + timedelta(hours=2)), 50
    ).invitations
    assert _status(held) == Contact.INVITED
    phone.goto(f"{live_server.url}{_link(held)}")
    phone.wait_for_load_state()
    assert phone.locator("#not-available-now").count() == 0

    # The other participant signs on the clinic's tablet, phone-sized.
    staff.goto(f"{live_server.url}/trials/{trial.code}/reconsent/")
    assert staff.locator("#awaiting-reconsent tr.awaiting").count() == 1
    staff.goto(f"{live_server.url}/participants/{tablet.study_id}/consent/")
    staff.set_viewport_size({"width": 390, "height": 844})
    staff.click("#start-tablet")
    staff.wait_for_selector("#electronic-consent")
    assert "Vad som har ändrats" in staff.inner_text("#consent-text")
    overflow = staff.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 390, overflow
    staff.check("#item_interview_contact_no")
    staff.check("#item_registry_linkage_yes")
    staff.fill("#signed_name", "Sven Svensson")
    staff.click("#sign-consent")
    staff.wait_for_selector("#consent-signed")

    ec = ElectronicConsent.objects.get(participant=tablet)
    pdf = bytes(ec.pdf)
    assert hashlib.sha256(pdf).hexdigest() == ec.sha256
    document = pypdfium2.PdfDocument(pdf)
    shown = "\n".join(page.get_textpage().get_text_range() for page in document)
    assert "Vad som har ändrats" in shown and "Sven Svensson" in shown
    assert "[Nej] Jag får kontaktas" in shown and "[Ja] Uppgifter om min vård" in shown

    # Back at the desk: the coordinator checks who signed and confirms.
    staff.set_viewport_size({"width": 1100, "height": 1000})
    staff.goto(f"{live_server.url}/participants/{tablet.study_id}/consent/")
    assert staff.inner_text(".consent-sha256") == ec.sha256
    staff.click(".confirm-identity")
    staff.wait_for_selector('#consent-history tr[data-kind="reconsent"]')
    record = current(tablet)
    assert (record.method, record.version) == ("electronic", "2.0")
    assert record.answers == {"interview_contact": False, "registry_linkage": True}
    staff.goto(f"{live_server.url}/trials/{trial.code}/reconsent/")
    assert staff.locator("#awaiting-reconsent").count() == 0
