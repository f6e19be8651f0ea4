"""Consent versions: the protocol file's documents, re-consent after an amendment, the
hold of data collection, refusals, the optional items' effects and electronic consent."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pypdfium2
import pytest
import time_machine
from django.urls import reverse

from analysis import registry
from enrolment.audit import participant_history
from enrolment.consent.electronic import sign_electronic, start_electronic
from enrolment.consent.reading import (
    ConsentError,
    awaiting_reconsent,
    awaits_reconsent,
    consented_to,
    current,
    held_ids,
    history,
    interview_candidates,
    is_held,
    policy_of,
)
from enrolment.consent.writing import record_reconsent, record_refusal
from enrolment.models import (
    ConsentDocument,
    ConsentPolicy,
    ConsentRecord,
    ElectronicConsent,
    Participant,
)
from enrolment.protocol.reading import read_protocol
from enrolment.protocol.sections import ProtocolError
from enrolment.protocol.writing import load_protocol
from followup import dispatch as dispatcher
from followup.models import Contact, Message, SmsMessage, SmsPrompt
from followup.sms import tracking
from followup.tokens import hash_token, token_for
from tests.conftest import use_betterback_built_once

from ..conftest import PROTOCOLS
from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
DUE_3M = datetime(2017, 8, 2, 7, tzinfo=UTC)  # 3 m of an enrolment on 2 May 2017
SHIPPED = (PROTOCOLS / "betterback.toml").read_text(encoding="utf-8")


def amend(tmp_path, required="2.0", replace: dict | None = None):
    """BetterBack's file as an amendment that requires consent ``required``."""
    text = SHIPPED.replace('required = "1.0"', f'required = "{required}"')
    for old, new in (replace or {}).items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "betterback.toml"
    path.write_text(text, encoding="utf-8")
    return load_protocol(path)[0]


def reconsent(participant, interview=True, registry_ok=True, on=date(2017, 7, 1)):
    return record_reconsent(
        participant,
        version="2.0",
        given_on=on,
        answers={"interview_contact": interview, "registry_linkage": registry_ok},
        user=participant.enrolled_by or _user(),
    )


def _user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get_or_create(username="consent-taker")[0]


# --- the protocol file --------------------------------------------------------------------


def test_the_protocol_file_lists_the_consent_documents(betterback):
    policy = ConsentPolicy.objects.get(trial=betterback)
    assert policy.required_version == "1.0" and policy.hold_until_reconsent and policy.electronic
    assert [i["code"] for i in policy.items] == ["interview_contact", "registry_linkage"]
    one, two = ConsentDocument.objects.filter(trial=betterback)
    assert (one.version, two.version) == ("1.0", "2.0")
    assert sorted(two.texts) == ["en", "sv"] and "internal pilot" in two.texts["en"]
    assert "ländryggssmärta" in one.texts["sv"]
    assert two.items == ["interview_contact", "registry_linkage"] and two.reconsent
    assert (one.required_from_protocol_version, two.required_from_protocol_version) == (1, 2)


@pytest.mark.parametrize(
    "old, new, reason",
    [
        ('required = "1.0"', 'required = "3.0"', "required version '3.0' is not one of"),
        (
            'items = ["interview_contact", "registry_linkage"]',
            'items = ["interview_contact", "photos"]',
            "version 2.0 asks unknown item(s) ['photos']",
        ),
        (
            ', en = "consent/betterback-1.0.en.txt" }',
            " }",
            "version 1.0 has no text in ['en']",
        ),
        ("consent/betterback-2.0.en.txt", "consent/missing.txt", "en file 'consent/missing.txt'"),
        ("required_from = 2", "required_from = 0", "a protocol version number starts at 1"),
    ],
)
def test_bad_consent_sections_name_the_reason(tmp_path, old, new, reason):
    assert old in SHIPPED
    path = tmp_path / "betterback.toml"
    path.write_text(SHIPPED.replace(old, new), encoding="utf-8")
    with pytest.raises(ProtocolError) as exc:
        read_protocol(path)
    assert reason in str(exc.value)


def test_dates_of_documents_move_with_the_demo_shift(tmp_path):
    from enrolment.protocol.reading import shifted

    spec = read_protocol(PROTOCOLS / "betterback.toml")
    moved = shifted(spec, 10)
    assert moved.consent.documents[0].approved_on == date(2017, 2, 25)


# --- enrolment and the history --------------------------------------------------------------


def test_enrolment_records_the_initial_consent_in_the_history_and_audit(clinic_west):
    p = enrol(clinic_west)
    (record,) = history(p)
    assert (record.kind, record.version, record.document.version) == ("initial", "1.0", "1.0")
    assert record.answers == {} and record.method == ConsentRecord.PAPER
    assert any(e.what == "Consent" for e in participant_history(p))
    assert not awaits_reconsent(p) and not is_held(p)


def test_an_unlisted_form_version_is_kept_as_written(clinic_west):
    from enrolment.actions.enrol import enrol_participant
    from tests.factories import PersonalFactory

    p = enrol_participant(
        clinic=clinic_west,
        enrolled_on=date(2017, 5, 2),
        personal=PersonalFactory(),
        consent={"consented_on": date(2017, 5, 2), "form_version": "0.9", "taken_by": _user()},
    )
    record = current(p)
    assert record.version == "0.9" and record.document is None


# --- an amendment requiring version 2.0 ---------------------------------------------------------


def test_an_amendment_lists_the_participants_to_reconsent(clinic_west, tmp_path):
    a, b, gone = (enrol(clinic_west) for _ in range(3))
    from enrolment.actions.status import withdraw_participant

    withdraw_participant(gone, date(2017, 6, 1), "moved away")
    trial = amend(tmp_path)
    assert awaiting_reconsent(trial) == [a, b]
    assert held_ids([a, b, gone]) == {a.pk, b.pk}
    reconsent(a)
    assert awaiting_reconsent(trial) == [b]
    assert current(a).version == "2.0"
    # New participants sign 2.0 and are not listed.
    new = enrol(clinic_west, enrolled_on=date(2017, 7, 3))
    ConsentRecord.objects.filter(participant=new).update(
        version="2.0", document=ConsentDocument.objects.get(trial=trial, version="2.0")
    )
    assert awaiting_reconsent(trial) == [b]


def test_the_dry_run_counts_who_the_consent_amendment_lists(
    client, coordinator, clinic_west, tmp_path
):
    from enrolment.actions.status import withdraw_participant
    from enrolment.amendments import consequence_text, load_versioned

    a, b, gone = (enrol(clinic_west) for _ in range(3))
    withdraw_participant(gone, date(2017, 6, 1), "moved away")
    path = tmp_path / "betterback.toml"
    path.write_text(SHIPPED.replace('required = "1.0"', 'required = "2.0"'), encoding="utf-8")
    dry = load_versioned(path, amendment="EPN 2017/600", dry_run=True)
    assert [c.text() for c in dry.changes] == ["consent: required 1.0 -> 2.0"]
    assert [consequence_text(c) for c in dry.consequences] == [
        "consent: version 2.0 required: 2 participant(s) listed for re-consent; their data "
        "collection is held until they re-consent"
    ]
    assert policy_of(a.trial).required_version == "1.0"  # nothing written
    wet = load_versioned(path, amendment="EPN 2017/600")
    assert wet.consequences == dry.consequences
    assert len(awaiting_reconsent(a.trial)) == 2
    client.force_login(coordinator)
    url = reverse("protocol_version", args=[a.trial.code, wet.number])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert (
        "consent: version 2.0 required: listade för nytt samtycke: 2 deltagare; deras "
        "datainsamling väntar tills de har lämnat nytt samtycke"
    ) in page


def test_a_document_without_reconsent_applies_to_new_participants_only(clinic_west, tmp_path):
    p = enrol(clinic_west)
    trial = amend(tmp_path, replace={"reconsent = true": "reconsent = false"})
    assert trial and awaiting_reconsent(trial) == [] and not is_held(p)


def test_data_collection_is_held_until_the_coordinator_records_reconsent(clinic_west, tmp_path):
    held, ready = enrol(clinic_west), enrol(clinic_west)
    amend(tmp_path)
    reconsent(ready)
    stats = dispatcher.dispatch_due(DUE_3M, 50)
    assert (stats.invitations, stats.consent_held) == (1, 1)
    assert Contact.objects.get(participant=held, timepoint__code="3m").status == Contact.SCHEDULED
    # No reminder either, however often the dispatcher runs.
    for hours in (2, 30, 24 * 8):
        assert dispatcher.dispatch_due(DUE_3M + timedelta(hours=hours), 50).invitations == 0
    reconsent(held, on=date(2017, 8, 8))
    stats = dispatcher.dispatch_due(DUE_3M + timedelta(days=8, hours=1), 50)
    assert stats.invitations == 1 and stats.consent_held == 0
    assert Contact.objects.get(participant=held, timepoint__code="3m").status == Contact.INVITED


def test_a_message_planned_before_the_hold_waits_too(clinic_west, tmp_path):
    """An invitation written before the amendment (still pending, or to be retried)
    goes out by no channel while the participant awaits re-consent."""
    p = enrol(clinic_west)
    dispatcher.plan_due(DUE_3M, 50, dispatcher.Stats())  # written, not yet sent
    message = Message.objects.get(contact__participant=p)
    assert message.status == Message.PENDING
    amend(tmp_path)
    stats = dispatcher.dispatch_due(DUE_3M + timedelta(minutes=5), 50)
    message.refresh_from_db()
    assert stats.sent == 0 and message.status == Message.PENDING
    assert message.next_attempt_at == DUE_3M + timedelta(minutes=5, hours=1)
    reconsent(p, on=date(2017, 8, 2))
    assert dispatcher.dispatch_due(DUE_3M + timedelta(hours=2), 50).sent == 1
    message.refresh_from_db()
    assert message.status == Message.SENT


def test_the_operator_is_told_a_held_participant_s_link_is_not_available(
    clinic_west, tmp_path, settings
):
    """``manage.py survey_link`` lists whom to try: not a participant whose link would say
    "not available" until the re-consent is recorded (found walking the demo)."""
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.FOLLOWUP_BASE_URL = "http://testserver"
    held, ready = enrol(clinic_west), enrol(clinic_west)
    dispatcher.dispatch_due(DUE_3M, 50)  # both invited before the amendment
    amend(tmp_path)
    reconsent(ready)
    with time_machine.travel(DUE_3M + timedelta(days=1), tick=False):
        listed = StringIO()
        call_command("survey_link", stdout=listed)
        assert listed.getvalue().splitlines() == [
            f"{ready.study_id}  3m",
            f"Held until re-consent (their links are not available): {held.study_id}",
        ]
        with pytest.raises(CommandError, match="held until re-consent"):
            call_command("survey_link", held.study_id)
        out = StringIO()
        call_command("survey_link", ready.study_id, stdout=out)
        assert out.getvalue().startswith("http://testserver/s/")


def test_without_the_hold_flag_collection_continues(clinic_west, tmp_path):
    p = enrol(clinic_west)
    amend(tmp_path, replace={"hold_until_reconsent = true": "hold_until_reconsent = false"})
    assert awaits_reconsent(p) and not is_held(p)
    assert dispatcher.dispatch_due(DUE_3M, 50).invitations == 1


SAFE_CONSENT = """
[consent]
required = "2.0"
hold_until_reconsent = true

[[consent.documents]]
version = "1.0"
approved_on = 2021-06-01
languages = ["da"]
text = { da = "Jeg giver samtykke til at deltage i SAFE." }

[[consent.documents]]
version = "2.0"
approved_on = 2022-01-01
languages = ["da", "en"]
text = { da = "Jeg giver fortsat samtykke.", en = "I continue to consent." }
"""


def test_a_held_participant_gets_no_weekly_sms_question(tmp_path, settings):
    from followup.sms.backends import InMemoryBackend

    settings.SMS_BACKEND = "followup.sms.backends.InMemoryBackend"
    path = tmp_path / "safe.toml"
    path.write_text((PROTOCOLS / "safe.toml").read_text(encoding="utf-8") + SAFE_CONSENT)
    trial, _ = load_protocol(path)
    from enrolment import randomisation_store

    randomisation_store.generate(trial, _user(), seed=1)
    clinic = trial.clusters.first().clinics.first()
    held = enrol(clinic, enrolled_on=date(2022, 1, 5), mobile="+4520100001")
    ready = enrol(clinic, enrolled_on=date(2022, 1, 5), mobile="+4520100002")
    record_reconsent(
        ready, version="2.0", given_on=date(2022, 1, 6), answers={}, user=_user()
    )
    first = SmsPrompt.objects.filter(participant=held).order_by("week").first()
    stats = tracking.run(now=first.next_action_at)
    assert stats.questions == 1
    first.refresh_from_db()
    assert first.status == SmsPrompt.CANCELLED
    assert not SmsMessage.objects.filter(participant=held).exists()
    assert SmsMessage.objects.filter(participant=ready).count() == 1
    InMemoryBackend.outbox.clear()


def test_held_links_and_visit_pages_say_not_available_now(
    client, coordinator, clinic_west, tmp_path
):
    from followup.schedule import add_months

    # Enrolled three months ago: the 3-month link is open now (the link reads the clock).
    p = enrol(clinic_west, enrolled_on=add_months(date.today(), -3))
    amend(tmp_path)
    contact = Contact.objects.get(participant=p, timepoint__code="3m")
    token = token_for(contact)
    Contact.objects.filter(pk=contact.pk).update(token_hash=hash_token(token))
    page = client.get(reverse("survey_page", args=[token, 1]))
    text = page.content.decode()
    assert "not-available-now" in text
    for secret in ("BetterBack model of care", "intervention", "control", "consent"):
        assert secret not in text.lower().replace("not-available-now", "")
    client.force_login(coordinator)
    page = client.get(reverse("visit_page", args=[p.study_id, "3m", 1]))
    assert "not-available-now" in page.content.decode()
    reconsent(p, on=date.today())
    page = client.get(reverse("visit_page", args=[p.study_id, "3m", 1]))
    assert "not-available-now" not in page.content.decode()


def test_a_refusal_continues_or_withdraws(clinic_west, tmp_path):
    stays, leaves = enrol(clinic_west), enrol(clinic_west)
    trial = amend(tmp_path)
    record_refusal(
        stays,
        version="2.0",
        refused_on=date(2017, 7, 1),
        outcome="continue",
        reason="does not want the interview",
        user=_user(),
    )
    record_refusal(
        leaves,
        version="2.0",
        refused_on=date(2017, 7, 1),
        outcome=Participant.ALL_CONTACT,
        reason="no longer wants to take part",
        user=_user(),
    )
    assert awaiting_reconsent(trial) == []
    assert not is_held(stays) and current(stays).version == "1.0"
    leaves.refresh_from_db()
    assert leaves.status == Participant.WITHDRAWN
    assert leaves.withdrawal_scope == Participant.ALL_CONTACT
    assert not Contact.objects.filter(participant=leaves, status__in=Contact.OPEN).exists()
    kinds = [r.kind for r in history(leaves)]
    assert kinds == ["initial", "refusal"]


def test_reconsent_is_checked(clinic_west, tmp_path):
    p = enrol(clinic_west)
    amend(tmp_path)
    with pytest.raises(ConsentError, match="not a consent version"):
        record_reconsent(
            p, version="9", given_on=date(2017, 7, 1), answers={}, user=_user()
        )
    with pytest.raises(ConsentError, match="does not ask"):
        record_reconsent(
            p, version="2.0", given_on=date(2017, 7, 1), answers={"photos": True}, user=_user()
        )
    with pytest.raises(ConsentError, match="on or after the enrolment"):
        reconsent(p, on=date(2017, 1, 1))
    with pytest.raises(ConsentError, match="needs a reason"):
        record_refusal(
            p,
            version="2.0",
            refused_on=date(2017, 7, 1),
            outcome="continue",
            reason=" ",
            user=_user(),
        )


# --- the optional items ------------------------------------------------------------------------


def test_optional_items_and_the_interview_candidates(client, coordinator, clinic_west, tmp_path):
    yes, no, old = enrol(clinic_west), enrol(clinic_west), enrol(clinic_west)
    trial = amend(tmp_path)
    reconsent(yes, interview=True, registry_ok=False)
    reconsent(no, interview=False, registry_ok=True)
    assert consented_to(yes, "interview_contact")
    assert not consented_to(yes, "registry_linkage")
    assert not consented_to(no, "interview_contact")
    # 1.0 did not ask: the file's when_not_asked decides.
    assert not consented_to(old, "interview_contact")
    assert consented_to(old, "registry_linkage")
    assert not consented_to(old, "no_such_item")
    assert interview_candidates(trial) == [yes]
    client.force_login(coordinator)
    page = client.get(reverse("interview_candidates", args=[trial.code])).content.decode()
    assert yes.study_id in page and no.study_id not in page and old.study_id not in page


def test_the_registry_import_skips_participants_without_linkage_consent(clinic_west, tmp_path):
    linked, refused = enrol(clinic_west), enrol(clinic_west)
    trial = amend(tmp_path)
    reconsent(linked, registry_ok=True)
    reconsent(refused, registry_ok=False)
    header = "study_id," + ",".join(registry.ITEMS)
    content = f"{header}\n{linked.study_id},1,0,0,0,0,3\n{refused.study_id},2,0,0,0,0,5\n"
    imp = registry.import_file(trial, "extract.csv", content.encode())
    assert imp.rows == 1 and imp.skipped_without_consent == [refused.study_id]
    assert list(imp.records.values_list("participant", flat=True)) == [linked.pk]


# --- pages and electronic consent --------------------------------------------------------------


def test_the_reconsent_page_and_the_participant_page(client, coordinator, clinic_west, tmp_path):
    a, b = enrol(clinic_west), enrol(clinic_west)
    trial = amend(tmp_path)
    client.force_login(coordinator)
    page = client.get(reverse("reconsent_list", args=[trial.code])).content.decode()
    assert a.study_id in page and b.study_id in page and "2 participants await" in page
    r = client.post(
        reverse("participant_consent", args=[a.study_id]),
        {
            "action": "reconsent",
            "version": "2.0",
            "given_on": "2017-07-01",
            "item_interview_contact": "on",
        },
    )
    assert r.status_code == 302
    assert current(a).answers == {"interview_contact": True, "registry_linkage": False}
    r = client.post(
        reverse("participant_consent", args=[b.study_id]),
        {"action": "reconsent", "version": "2.0", "given_on": "2099-01-01"},
    )
    assert r.status_code == 400 and "future" in r.content.decode()
    page = client.get(reverse("participant_detail", args=[a.study_id])).content.decode()
    assert 'id="consent-history"' in page and 'data-kind="reconsent"' in page
    page = client.get(reverse("participant_detail", args=[b.study_id])).content.decode()
    assert 'id="consent-held"' in page
    page = client.get(reverse("participant_history", args=[a.study_id])).content.decode()
    assert "re-consent to version 2.0" in page


def test_the_staff_form_words_the_items_in_the_pages_language(
    client, coordinator, clinic_west, tmp_path
):
    p = enrol(clinic_west)
    amend(tmp_path)
    client.force_login(coordinator)
    url = reverse("participant_consent", args=[p.study_id])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Jag får kontaktas och tillfrågas om en intervju." in page
    assert "I may be contacted" not in page
    assert "I may be contacted" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # A language the file has no label in: English.
    assert "I may be contacted" in client.get(url, HTTP_ACCEPT_LANGUAGE="da").content.decode()
    # The history, the re-consent list and the interview candidates name the items in
    # the page's words, not by their codes.
    reconsent(p, interview=True)
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    history = page[page.index('id="consent-history"') :].split("</table>")[0]
    assert "Jag får kontaktas och tillfrågas om en intervju: ja" in history
    assert "interview_contact" not in history
    listing = client.get(
        reverse("reconsent_list", args=[p.trial.code]), HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode()
    assert "Uppgifter om min vård och sjukskrivning" in listing
    assert "registry_linkage" not in listing
    candidates = client.get(
        reverse("interview_candidates", args=[p.trial.code]), HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode()
    assert "”Jag får kontaktas och tillfrågas om en intervju”" in candidates


def test_consent_pages_follow_the_roles(client, statistician, physio_east, clinic_west):
    p = enrol(clinic_west)
    client.force_login(statistician)
    assert client.get(reverse("participant_consent", args=[p.study_id])).status_code == 403
    client.force_login(physio_east)
    assert client.get(reverse("participant_consent", args=[p.study_id])).status_code == 404


def _pdf_text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    return "\n".join(page.get_textpage().get_text_range() for page in pdf)


def test_electronic_consent_on_the_tablet_keeps_its_pdf(client, coordinator, clinic_west, tmp_path):
    p = enrol(clinic_west, preferred_language="sv")
    amend(tmp_path)
    client.force_login(coordinator)
    r = client.post(reverse("participant_consent", args=[p.study_id]), {"action": "tablet"})
    assert r.status_code == 302 and r.url.startswith("/consent/")
    page = client.get(r.url + "?lang=en").content.decode()
    assert "What has changed" in page and "Type your full name to sign" in page
    # No name: an error, and the ticks stay as given.
    bad = client.post(r.url, {"item_interview_contact": "yes", "item_registry_linkage": "no"})
    assert (
        bad.status_code == 400
        and 'id="item_interview_contact_yes" value="yes" required checked' in bad.content.decode()
    )
    ok = client.post(
        r.url,
        {
            "item_interview_contact": "yes",
            "item_registry_linkage": "no",
            "signed_name": "Anna Berg",
        },
    )
    assert ok.status_code == 302
    ec = ElectronicConsent.objects.get(participant=p)
    assert ec.sha256 == hashlib.sha256(bytes(ec.pdf)).hexdigest()
    text = _pdf_text(bytes(ec.pdf))
    assert "main outcome is now measured 3 months" in text and "Anna Berg" in text
    assert "[Yes] I may be contacted" in text and "[No] Data on my health care" in text
    # It counts only once a coordinator has confirmed who signed.
    assert awaits_reconsent(p)
    client.post(
        reverse("participant_consent", args=[p.study_id]),
        {"action": "confirm", "electronic": ec.pk},
    )
    record = current(p)
    assert (record.kind, record.method, record.version) == ("reconsent", "electronic", "2.0")
    assert ec.sha256 in record.note and not awaits_reconsent(p)
    download = client.get(reverse("electronic_consent_pdf", args=[p.study_id, ec.pk]))
    assert hashlib.sha256(download.content).hexdigest() == ec.sha256
    # The link no longer signs again.
    assert "consent-signed" in client.get(r.url).content.decode()


def test_the_electronic_consent_page_speaks_the_participants_language(
    client, clinic_west, tmp_path
):
    p = enrol(clinic_west, preferred_language="sv")
    amend(tmp_path)
    ec, token = start_electronic(p, _user())
    page = client.get(reverse("electronic_consent", args=[token])).content.decode()
    assert ec.language == "sv" and 'lang="sv"' in page
    assert "Skriv ditt fullständiga namn" in page and "Vad som har ändrats" in page


def test_a_trial_without_electronic_consent_refuses_to_start_one(clinic_west, tmp_path):
    p = enrol(clinic_west)
    amend(tmp_path, replace={"electronic = true": "electronic = false"})
    with pytest.raises(ConsentError, match="does not offer"):
        start_electronic(p, _user())


def test_the_enrol_form_asks_the_required_versions_items(client, coordinator, betterback, tmp_path):
    from enrolment.screening_forms import EnrolForm

    assert "consent_item_interview_contact" not in EnrolForm(trial=betterback).fields
    trial = amend(tmp_path)
    form = EnrolForm(trial=trial)
    assert form.fields["form_version"].initial == "2.0"
    assert {"consent_item_interview_contact", "consent_item_registry_linkage"} <= set(form.fields)


def test_enrolment_keeps_the_answers_of_the_version_signed(clinic_west, tmp_path):
    from enrolment.actions.enrol import enrol_participant
    from tests.factories import PersonalFactory

    amend(tmp_path)
    p = enrol_participant(
        clinic=clinic_west,
        enrolled_on=date(2017, 7, 3),
        personal=PersonalFactory(),
        consent={
            "consented_on": date(2017, 7, 3),
            "form_version": "2.0",
            "taken_by": _user(),
            "answers": {"interview_contact": True, "registry_linkage": False},
        },
    )
    assert consented_to(p, "interview_contact")
    assert not consented_to(p, "registry_linkage")
    assert not awaits_reconsent(p)


def test_erasure_removes_the_typed_name_and_the_pdf_but_keeps_the_hash(clinic_west, tmp_path):
    from enrolment.actions.erasure import erase_personal_data

    p = enrol(clinic_west)
    amend(tmp_path)
    ec, _token = start_electronic(p, _user())
    ec = sign_electronic(ec, "Anna Berg", {"interview_contact": True})
    digest = ec.sha256
    erasure = erase_personal_data(p, "request of 2017-09-01")
    ec.refresh_from_db()
    assert ec.signed_name == "[erased]" and ec.pdf is None and ec.sha256 == digest
    assert erasure.scrubbed["electronic_consents"] == 1


def test_the_migration_turns_enrolment_consents_into_initial_records(clinic_west):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("enrolment.migrations.0015_consent_records_from_enrolment")
    p = enrol(clinic_west)
    ConsentRecord.objects.all().delete()  # as before the migration
    migration.forward(apps, None)
    migration.forward(apps, None)  # a second run adds nothing
    (record,) = ConsentRecord.objects.filter(participant=p)
    assert (record.kind, record.version, record.document.version) == ("initial", "1.0", "1.0")
    assert record.given_on == p.consent.consented_on and record.recorded_by == p.consent.taken_by


def test_the_consent_status_command(clinic_west, tmp_path, capsys):
    from django.core.management import call_command

    yes, waiting = enrol(clinic_west), enrol(clinic_west)
    amend(tmp_path)
    reconsent(yes, interview=True)
    call_command("consent_status", "betterback")
    out = capsys.readouterr().out
    assert "consent 2.0 required; 1 awaiting re-consent, 1 held" in out
    assert f"{waiting.study_id}  held" in out
    call_command("consent_status", "betterback", "--interview-candidates")
    assert capsys.readouterr().out.split() == [yes.study_id]


def test_a_danish_participant_signs_by_a_link_in_danish(client, tmp_path):
    from enrolment import randomisation_store
    from enrolment.models import TrialRole
    from tests.factories import TrialRoleFactory, UserFactory

    path = tmp_path / "safe.toml"
    text = SAFE_CONSENT.replace("hold_until_reconsent = true", "electronic = true")
    path.write_text((PROTOCOLS / "safe.toml").read_text(encoding="utf-8") + text)
    trial, _ = load_protocol(path)
    coordinator = TrialRoleFactory(
        user=UserFactory(username="safe-coord"), trial=trial, role=TrialRole.COORDINATOR
    ).user
    randomisation_store.generate(trial, coordinator, seed=1)
    p = enrol(
        trial.clusters.first().clinics.first(),
        enrolled_on=date(2022, 1, 5),
        preferred_language="da",
        mobile="+4520100003",
    )
    client.force_login(coordinator)
    r = client.post(
        reverse("participant_consent", args=[p.study_id]), {"action": "link"}, follow=True
    )
    (message,) = [str(m) for m in r.context["messages"]]
    url = message.split("): ")[1]
    assert "/consent/" in url
    client.logout()
    page = client.get(url).content.decode()
    assert 'lang="da"' in page and "Skriv dit fulde navn for at underskrive" in page
    assert "Jeg giver fortsat samtykke." in page


def test_the_reconsent_list_offers_recording_only_to_who_may_record(
    client, coordinator, statistician, clinic_west, tmp_path
):
    p = enrol(clinic_west)
    trial = amend(tmp_path)
    record = reverse("participant_consent", args=[p.study_id])
    client.force_login(statistician)
    page = client.get(reverse("reconsent_list", args=[trial.code])).content.decode()
    assert p.study_id in page and record not in page  # the button led to a 403
    client.force_login(coordinator)
    page = client.get(reverse("reconsent_list", args=[trial.code])).content.decode()
    assert record in page


def test_a_long_amendment_reference_is_kept_whole_or_refused_by_name(clinic_west, tmp_path):
    """PostgreSQL refused the demo's 63-character reference: the history rows' reason
    (100 characters) had 'protocol file betterback.toml, amendment ' in front of it."""
    from enrolment.amendments import load_versioned

    enrol(clinic_west)
    path = tmp_path / "betterback.toml"
    path.write_text(SHIPPED.replace('required = "1.0"', 'required = "2.0"'), encoding="utf-8")
    with pytest.raises(ProtocolError, match="the amendment reference is 101 characters"):
        load_versioned(path, amendment="E" * 101)
    reference = "EPN Linköping, amendment after the internal pilot (illustrative)"
    loaded = load_versioned(path, amendment=reference)
    assert loaded.version.amendment == reference
    policy = policy_of(loaded.trial)
    reasons = [h.history_change_reason for h in policy.history.all() if h.history_change_reason]
    assert reasons and all(len(r) <= 100 for r in reasons)
    assert any(r.startswith("protocol file betterback.toml, amendment EPN Link") for r in reasons)
