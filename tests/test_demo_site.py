"""The README's first command, ``manage.py demo``, run twice over one database: what a
new user finds in it (every channel, queries in every state, SAFE's weekly SMS, a
participant awaiting re-consent), and that the second start adds and replays nothing.
Built once for the module (tests/built_once.py): each build costs tens of seconds."""

import io
import os
import re
from contextlib import redirect_stdout
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

from analysis.import_models import DataImport
from datamanagement.queries.models import Query
from enrolment.consent.reading import awaiting_reconsent, is_held, required_document
from enrolment.demo import DEMO_PASSWORD
from enrolment.models import Participant, PersonalDetails, Physiotherapist, Trial, TrialRole
from followup import reach
from followup.models import InboundSms, Message, SmsOptOut, SmsPrompt
from followup.sms import tracking
from paper.models import PaperEntry
from questionnaires.models import Response
from trialsite.demo.consent import AMENDMENT

from .built_once import rolled_back

pytestmark = [pytest.mark.django_db, pytest.mark.heavy]

ARGS = ["--no-serve", "--participants", "30", "--safe-participants", "4",
        "--other-participants", "2"]  # fmt: skip


def _state():
    return {
        "responses": Response.objects.count(),
        "participants": {
            code: Participant.objects.filter(trial__code=code).count()
            for code in ("betterback", "safe")
        },
        "replies": InboundSms.objects.count(),
        "channels": sorted(
            PersonalDetails.objects.values_list("participant_id", "contact_preference")
        ),
        "tray": Message.objects.filter(
            channel=Message.POST, status=Message.SENT, posted_at=None
        ).count(),
        "queries": sorted(Query.objects.values_list("state", flat=True)),
        "imports": sorted(DataImport.objects.values_list("trial__code", "code", "rows", "active")),
    }


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    # The command points survey links at the site it serves (FOLLOWUP_BASE_URL, in the
    # environment and the settings): the tests after this module must not see it.
    with (
        rolled_back(django_db_blocker),
        mock.patch.dict(os.environ),
        override_settings(FOLLOWUP_BASE_URL=settings.FOLLOWUP_BASE_URL),
    ):
        out = io.StringIO()
        with redirect_stdout(out):
            call_command("demo", *ARGS, stdout=out)
        first = _state()
        again = io.StringIO()
        call_command("demo", *ARGS, stdout=again)
        yield {"out": out.getvalue(), "first": first, "second": _state(),
               "out_again": again.getvalue()}  # fmt: skip


def test_a_second_start_adds_nobody_and_replays_nothing(demo):
    first, second = demo["first"], demo["second"]
    assert second == first
    # BetterBack's 30 and the one no channel can reach
    assert first["participants"] == {"betterback": 31, "safe": 4}
    assert first["responses"] > 0 and first["replies"] > 0


def test_it_prints_every_login_as_the_site_names_its_role(demo):
    out = demo["out"]
    assert "coordinator" in out and DEMO_PASSWORD in out
    # The login is datamanager, no underscore.
    assert "datamanager    data manager" in out and "data_manager" not in out


def test_each_step_is_printed_as_it_starts_and_a_second_start_replays_nothing(demo):
    """Most of a minute passes before the logins: the console says what is going on."""
    steps = [line for line in demo["out"].splitlines() if re.match(r"^  \[ *\d+ s\] ", line)]
    assert [re.sub(r"^  \[ *\d+ s\] ", "", line).split(" ")[0] for line in steps] == [
        "Creating", "Loading", "Replaying", "Replaying", "Amendments,", "Imports,",
    ]  # fmt: skip
    # BetterBack 30 (the unreachable one comes after), SAFE 4, selfBACK and IMPACt 2 each
    assert "past follow-up of 38 participants" in demo["out"]
    before, _, after = demo["out"].partition("Ready in")
    assert steps[-1] in before and "Logins" in after
    assert "Creating" in demo["out_again"] and "Replaying" not in demo["out_again"]


def test_every_demo_participant_was_screened_so_the_screening_log_adds_up(demo):
    """The screening log counts screening records; the monitoring CONSORT counts a
    participant enrolled without one as assessed too: the demo's numbers must agree."""
    from enrolment.models import ScreeningRecord

    screened = ScreeningRecord.objects.filter(participant__isnull=False).values("participant")
    assert not Participant.objects.exclude(pk__in=screened).exists()


def test_safes_weekly_sms_in_the_outbox_carry_the_time_they_were_sent(demo):
    """A coordinator reading one patient's SMS in the outbox sees a question a week, not
    a year of questions sent in the minute the demo was built."""
    from followup.models import OutboxMessage, SmsMessage

    safe = OutboxMessage.objects.filter(channel="sms", trial__code="safe")
    sent = SmsMessage.objects.filter(participant__trial__code="safe", status="sent")
    assert safe.count() == sent.count() > 50
    first, last = (safe.order_by(f"{o}created").first().created for o in ("", "-"))
    assert last - first > timedelta(weeks=40)
    assert set(safe.values_list("created", flat=True)) <= set(
        sent.values_list("sent_at", flat=True)
    )


def test_consort_and_the_contacts_agree_on_a_timepoint_an_amendment_added(demo):
    """SAFE's 15 months came with its version 2: whoever's date for it had passed was
    never asked it. The CONSORT flow counts them as not scheduled, not as no response,
    so its numbers are the follow-up schedule's (a walk found 3 "no response" beside 0
    missed)."""
    from datetime import date

    from django.utils import timezone

    from analysis import monitoring as mon
    from followup.models import Contact

    safe = Trial.objects.get(code="safe")
    fifteen = safe.timepoints.get(code="15m")
    assert fifteen.added_in is not None and fifteen.added_in.number == 2
    people = Participant.objects.filter(trial=safe)
    today = timezone.localdate()

    def box(name):
        return set(mon.consort_participants(safe, people, today, name, "15m", ""))

    asked = set(
        Contact.objects.filter(timepoint=fifteen).values_list("participant__study_id", flat=True)
    )
    missed = set(
        Contact.objects.filter(timepoint=fifteen, status=Contact.MISSED).values_list(
            "participant__study_id", flat=True
        )
    )
    assert box(mon.NOT_SCHEDULED) == set(people.values_list("study_id", flat=True)) - asked
    assert box(mon.NOT_SCHEDULED) and asked
    assert box(mon.NO_RESPONSE) == missed
    flow = mon.consort_for(safe, people, safe.screenings.all(), today)
    assert flow.adds_up
    assert sum(arm.not_scheduled["15m"] for arm in flow.arms) == len(box(mon.NOT_SCHEDULED))
    assert isinstance(mon.planned_from(fifteen), date)


@pytest.mark.parametrize("shape", ["wide", "long"])
def test_the_export_tells_never_asked_from_not_answered(demo, shape, tmp_path):
    """SAFE's 15 months: the export's scheduled_15m is 0 for exactly those CONSORT counts
    as not scheduled, so that an analysis does not read them as non-response. CSV through
    the export the site uses (shaped in SQL on PostgreSQL, in Python on SQLite)."""
    import pandas as pd
    from django.utils.timezone import localdate

    from analysis import exports
    from analysis import monitoring as mon

    safe = Trial.objects.get(code="safe")
    people = Participant.objects.filter(trial=safe)
    not_scheduled = set(
        mon.consort_participants(safe, people, localdate(), mon.NOT_SCHEDULED, "15m", "")
    )
    exports.write_export(safe, tmp_path / "safe.csv", "csv", shape, "score")
    df = pd.read_csv(tmp_path / "safe.csv").drop_duplicates("study_id").set_index("study_id")
    assert not_scheduled
    assert set(df.index[df["scheduled_15m"] == 0]) == not_scheduled
    assert set(df.index[df["scheduled_15m"] == 1]) == set(df.index) - not_scheduled
    codebook = pd.read_csv(tmp_path / "safe_codebook.csv").set_index("name")
    assert "Not scheduled, added later" in codebook.loc["scheduled_15m", "value_labels"]
    # A trial whose timepoints all came with its first version has no such column.
    exports.write_export(Trial.objects.get(code="betterback"), tmp_path / "bb.csv", "csv",
                         shape, "score")
    assert not [c for c in pd.read_csv(tmp_path / "bb.csv", nrows=1) if c.startswith("sched")]


def test_participants_on_every_channel_and_post_in_the_tray(demo):
    preferences = set(
        PersonalDetails.objects.filter(participant__trial__code="betterback").values_list(
            "contact_preference", flat=True
        )
    )
    assert preferences == {"email", "sms", "both", "post"}
    assert demo["first"]["tray"] > 0
    betterback = Message.objects.filter(contact__participant__trial__code="betterback")
    # Post and SMS messages go by the participant's choice, within the 3-reminder rule.
    for m in betterback.filter(channel__in=[Message.POST, Message.SMS]).select_related(
        "contact__participant__personal_details"
    ):
        assert m.channel in m.contact.participant.personal_details.contact_preference or (
            m.channel == Message.SMS
            and m.contact.participant.personal_details.contact_preference == "both"
        ), m
    # An SMS went out, or, for a demo built in the trial's quiet hours (after 21:00 in
    # Stockholm), waits in the outbox for the morning.
    sms = betterback.filter(channel=Message.SMS)
    assert sms.filter(status=Message.SENT).exists() or any(
        m.held_at and not reach.allowed(m.contact.timepoint.trial, m.held_at)
        for m in sms.filter(status=Message.PENDING).select_related("contact__timepoint__trial")
    )
    assert all(
        betterback.filter(contact=c, kind=Message.REMINDER).values("sequence").distinct().count()
        <= 3
        for c in {m.contact for m in betterback.filter(channel=Message.POST)}
    )
    # One pack came back scanned: its forms wait for the data manager.
    assert PaperEntry.objects.filter(status=PaperEntry.PENDING).exists()


def test_queries_in_every_state_and_from_the_checks(demo):
    manual = Query.objects.filter(check_code="", participant__trial__code="betterback")
    assert set(manual.values_list("state", flat=True)) == {
        Query.OPEN,
        Query.ANSWERED,
        Query.CLOSED,
        Query.REOPENED,
    }
    assert manual.filter(messages__kind="corrected").exists()
    assert Query.objects.exclude(check_code="").exists()
    # All of them at the clinic of the physiotherapist the demo prints: their first login
    # shows queries waiting for them.
    physio = next(
        line.split()[0] for line in demo["out"].splitlines() if "physiotherapist at" in line
    )
    clinic = Physiotherapist.objects.get(user__username=physio).clinic
    assert set(manual.values_list("participant__clinic", flat=True)) == {clinic.pk}


def test_data_management_a_newcomer_sees(demo):
    """Issue 12's "Done when": reasons for missing items, forms verified against source,
    one frozen timepoint (and a signed casebook), in the built demo itself."""
    from datamanagement.locks.models import Lock
    from datamanagement.sdv.models import SourceVerification
    from datamanagement.signatures.models import Signature

    betterback = Response.objects.filter(participant__trial__code="betterback")
    assert betterback.exclude(missing={}).exists()
    assert betterback.filter(not_done=True).exists()
    assert SourceVerification.objects.filter(
        cleared_at=None, response__participant__trial__code="betterback"
    ).exists()
    frozen = Lock.objects.active().filter(trial__code="betterback", level=Lock.TIMEPOINT)
    assert list(frozen.values_list("timepoint__code", flat=True)) == ["3m"]
    assert Signature.objects.filter(participant__trial__code="betterback").exists()


def test_safe_has_a_history_of_weekly_sms(demo):
    safe = Trial.objects.get(code="safe")
    statuses = set(
        SmsPrompt.objects.filter(participant__trial=safe).values_list("status", flat=True)
    )
    assert {"answered", "expired", "scheduled", "cancelled"} <= statuses
    # Every reply went through the real interpretation: none left pending.
    assert not InboundSms.objects.filter(outcome="pending").exists()
    assert SmsOptOut.objects.filter(participant__trial=safe).count() == 1
    quiet = safe.participants.order_by("pk")[1]
    assert quiet.study_id in tracking.missed_in_a_row(tracking.weekly_rows(safe.participants.all()))


def test_a_participant_no_channel_can_reach_is_on_the_overdue_list_with_why(demo):
    """Issue 14: a participant with no email, mobile or postal address is on the overdue
    list (of the coordinator and of the physiotherapist the demo prints) with why."""
    unreachable = Participant.objects.get(
        trial__code="betterback",
        personal_details__email="",
        personal_details__mobile="",
        personal_details__postal_address="",
    )
    physio = next(
        line.split()[0] for line in demo["out"].splitlines() if "physiotherapist at" in line
    )
    for username in ("coordinator", physio):
        client = Client()
        client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
        rows = []
        for n in range(1, 10):
            page = client.get(
                f"/followup/betterback/overdue/?page={n}", HTTP_ACCEPT_LANGUAGE="sv"
            ).content.decode()
            rows += [r for r in page.split("<tr>") if unreachable.study_id in r]
            if f"?page={n + 1}" not in page:
                break
        assert rows, username
        row = rows[-1]  # the open 12-month questionnaire (by due date)
        assert "Kan inte nås" in row, row
        assert "ingen e-postadress" in row and "inget mobilnummer" in row, row
        assert "ingen postadress" in row, row
    # Not the one awaiting re-consent: that story stays its own.
    assert awaiting_reconsent(unreachable.trial) != [unreachable]


def test_a_participant_awaits_reconsent(demo):
    trial = Trial.objects.get(code="betterback")
    waiting = awaiting_reconsent(trial)
    assert len(waiting) == 1 and is_held(waiting[0])
    assert required_document(trial).version == "2.0"
    # The same trial has two protocol versions: the amendment that requires consent 2.0.
    v1, v2 = trial.protocol_versions.order_by("number")
    assert (v2.amendment, v2.loaded_by.username) == (AMENDMENT, "coordinator")
    assert [c["text"] for c in v2.diff] == ["consent: required 1.0 -> 2.0"]
    # The amendment's reload keeps the demo's logins working without a second factor.
    assert not trial.two_factor_required


def test_a_clinic_manager_of_the_printed_physiotherapists_clinic(demo):
    out = demo["out"]
    physio = next(line.split()[0] for line in out.splitlines() if "physiotherapist at" in line)
    role = TrialRole.objects.get(user__username="manager", role=TrialRole.CLINIC_MANAGER)
    clinic = Physiotherapist.objects.get(user__username=physio).clinic
    assert list(role.clinics.all()) == [clinic] and role.trial.code == "betterback"
    assert f"clinic manager at {clinic.name}" in out
    client = Client()
    client.post("/accounts/login/", {"username": "manager", "password": DEMO_PASSWORD})
    page = client.get("/monitoring/trials/betterback/clinics/").content.decode()
    assert clinic.name in page


def test_the_declared_imports_have_a_current_demo_import(demo):
    # SAFE's registries, selfBACK's weekly app usage, IMPACt's escalation of care: one
    # import each through the page's write path; the second start imported nothing more.
    imported = {(t, c): (rows, active) for t, c, rows, active in demo["first"]["imports"]}
    assert set(imported) == {
        ("safe", "dk_registries"), ("selfback", "app_usage"),
        ("impact-lbp", "escalation_of_care"),
    }  # fmt: skip
    assert all(active and rows > 0 for rows, active in imported.values())
    weekly = DataImport.objects.get(code="app_usage")
    assert weekly.records.filter(week=2).exists() and weekly.uploaded_by.username == "datamanager"


def test_the_odm_of_every_demo_trial_validates_against_the_published_schema(demo):
    """Issue 18's 'ODM of the demo trials validates against the XSD': the demo's data, with
    paper double entry, corrections, missing-data reasons and SAFE's weekly SMS, against
    CDISC's schema vendored in api/odm/schema/1.3.2."""
    from pathlib import Path
    from xml.etree import ElementTree

    import xmlschema

    import api.odm
    from api.odm.export import odm_chunks

    schema = xmlschema.XMLSchema(
        str(Path(api.odm.__file__).parent / "schema" / "1.3.2" / "ODM1-3-2.xsd")
    )
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
    nulls = 0
    for trial in Trial.objects.order_by("code"):
        xml = "".join(odm_chunks(trial)).encode()
        schema.validate(io.BytesIO(xml))
        doc = ElementTree.fromstring(xml)
        subjects = doc.findall(".//odm:SubjectData", ns)
        assert len(subjects) == trial.participants.count() > 0, trial.code
        assert doc.findall(".//odm:AuditRecord", ns), trial.code
        nulls += len(doc.findall(".//odm:ItemData[@IsNull='Yes']", ns))
    assert nulls > 0  # the demo's missing-data reasons reach the files
