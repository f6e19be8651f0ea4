"""An amendment (BetterBack version 2: +9 months, -6 months, a wider 12-month window)
re-plans exactly the contacts not yet due of enrolled participants; the dry run counts
what the load then does; changes that would corrupt data are refused, nothing written."""

from __future__ import annotations

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from enrolment.actions.status import withdraw_participant
from enrolment.amendments import load_versioned
from enrolment.models import Cluster, Participant, ProtocolVersion, Timepoint
from enrolment.protocol.sections import ProtocolError
from followup.amendments import instruments_for
from followup.models import Contact
from followup.schedule import add_months
from followup.survey import _visit
from tests.conftest import use_betterback_built_once

from ..analysis.exportdata import respond
from ..data.amendments import V1, betterback_edited, betterback_v2
from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def _today(trial):
    return timezone.now().astimezone(ZoneInfo(trial.time_zone)).date()


def _contacts(p) -> dict[str, Contact]:
    return {c.timepoint.code: c for c in Contact.objects.filter(participant=p)}


def _state(p) -> dict[str, tuple]:
    return {
        code: (c.status, c.due_on, c.window_closes, c.protocol_version_id)
        for code, c in _contacts(p).items()
    }


@pytest.fixture
def cohort(betterback, clinic_west, clinic_east):
    today = _today(betterback)
    recent = enrol(clinic_west, enrolled_on=add_months(today, -2))  # 3m, 6m, 12m ahead
    midway = enrol(clinic_east, enrolled_on=add_months(today, -7))  # 12m ahead, 9m ahead
    late = enrol(clinic_east, enrolled_on=add_months(today, -10))  # 9m passed, 12m ahead
    gone = enrol(clinic_west, enrolled_on=add_months(today, -2))
    withdraw_participant(gone, today, "moved abroad")
    # One sent early: an open invitation keeps its version and its dates.
    sent = enrol(clinic_west, enrolled_on=add_months(today, -2) + timedelta(days=3))
    Contact.objects.filter(participant=sent, timepoint__code="3m").update(
        status=Contact.INVITED, invited_at=timezone.now()
    )
    # Already answered and already missed: both keep version 1 and their dates.
    Contact.objects.filter(participant=midway, timepoint__code="3m").update(status=Contact.MISSED)
    Contact.objects.filter(participant=late, timepoint__code="3m").update(status=Contact.COMPLETED)
    return {"recent": recent, "midway": midway, "late": late, "gone": gone, "sent": sent}


def test_version_one_is_recorded_at_the_first_load(betterback):
    v1 = ProtocolVersion.objects.get(trial=betterback)
    assert (v1.number, v1.amendment, v1.file_name) == (1, "", "betterback.toml")
    assert v1.text == V1.read_text(encoding="utf-8") and len(v1.sha256) == 64
    assert v1.instruments["odi"]["version"] == 1
    # Loading the same file again records nothing new.
    result = load_versioned(V1)
    assert not result.new_version and ProtocolVersion.objects.count() == 1


def test_participants_and_contacts_carry_the_version_they_were_planned_under(cohort):
    v1 = ProtocolVersion.objects.get()
    assert cohort["recent"].protocol_version == v1
    assert set(Contact.objects.values_list("protocol_version", flat=True)) == {v1.pk}


def test_version_two_replans_exactly_the_contacts_not_yet_due(cohort, tmp_path, betterback):
    before = {name: _state(p) for name, p in cohort.items()}
    v1 = ProtocolVersion.objects.get()
    result = load_versioned(betterback_v2(tmp_path), amendment="EPN 2017/123")
    v2 = result.version
    assert (v2.number, v2.amendment) == (2, "EPN 2017/123")
    after = {name: _state(p) for name, p in cohort.items()}

    recent = after["recent"]
    assert recent["6m"][0] == Contact.CANCELLED and recent["6m"][3] == v1.pk
    assert recent["3m"][:3] == before["recent"]["3m"][:3] and recent["3m"][3] == v2.pk
    assert recent["9m"][0] == Contact.SCHEDULED and recent["9m"][3] == v2.pk
    assert recent["9m"][1] == add_months(cohort["recent"].enrolled_on, 9)
    # The 12-month window closes 60 days after the due date instead of 45.
    assert recent["12m"][2] == before["recent"]["12m"][2] + timedelta(days=15)
    assert recent["12m"][3] == v2.pk

    midway = after["midway"]
    # 3m and 6m were due before the amendment: untouched, still version 1.
    assert midway["3m"] == before["midway"]["3m"] and midway["6m"] == before["midway"]["6m"]
    assert midway["9m"][0] == Contact.SCHEDULED and midway["12m"][3] == v2.pk

    late = after["late"]
    assert "9m" not in late  # its date has passed: not planned
    assert late["6m"] == before["late"]["6m"]
    # Answered and missed contacts keep their status, dates and version 1.
    assert midway["3m"][0] == Contact.MISSED and late["3m"][0] == Contact.COMPLETED
    assert late["3m"] == before["late"]["3m"] and late["3m"][3] == v1.pk

    assert after["gone"] == before["gone"]  # withdrawn: nothing re-planned
    assert after["sent"]["3m"] == before["sent"]["3m"]  # already sent: keeps version 1

    cancelled = Contact.objects.get(participant=cohort["recent"], timepoint__code="6m")
    assert "protocol version 2" in cancelled.close_reason and "6m removed" in cancelled.close_reason
    assert "EPN 2017/123" in cancelled.history.latest().history_change_reason
    # The dropped timepoint stays for the contacts that refer to it, planned for nobody.
    six = Timepoint.objects.get(trial=betterback, code="6m")
    assert six.removed_in == v2
    newcomer = enrol(cohort["recent"].clinic, enrolled_on=_today(betterback))
    assert newcomer.protocol_version == v2
    assert set(_contacts(newcomer)) == {"3m", "9m", "12m"}
    assert {c.protocol_version_id for c in _contacts(newcomer).values()} == {v2.pk}


def test_the_dry_run_counts_what_the_load_does(cohort, tmp_path):
    path = betterback_v2(tmp_path)
    contacts_before = list(Contact.objects.values_list("id", "status", "due_on", "window_closes"))
    dry = load_versioned(path, amendment="EPN 2017/123", dry_run=True)
    assert list(Contact.objects.values_list("id", "status", "due_on", "window_closes")) == (
        contacts_before
    )
    assert ProtocolVersion.objects.count() == 1
    assert not Timepoint.objects.filter(code="9m").exists()
    wet = load_versioned(path, amendment="EPN 2017/123")
    assert dry.consequences == wet.consequences == wet.version.consequences
    by_change = {c["change"]: c for c in wet.consequences}
    assert by_change["timepoints 9m: added"]["contacts"] == 3  # recent, midway, sent
    assert by_change["timepoints 9m: added"]["note"] == "1 not planned: their date has passed"
    assert by_change["timepoints 6m: removed"] == {
        "change": "timepoints 6m: removed",
        "action": "cancelled",
        "contacts": 2,  # recent and sent; midway's and late's were due already
        "participants": 2,
        "physiotherapists": 0,
    }
    replanned = by_change["timepoints 12m: due date or window changed"]
    assert replanned["contacts"] == 4 == replanned["participants"]
    # And the figures are the rows the load changed.
    assert Contact.objects.filter(timepoint__code="9m").count() == 3
    assert (
        Contact.objects.filter(
            timepoint__code="6m", status=Contact.CANCELLED, close_reason__contains="version 2"
        ).count()
        == 2
    )


def test_the_command_prints_the_diff_and_consequences_and_asks_for_the_amendment(
    cohort, tmp_path, capsys
):
    path = betterback_v2(tmp_path)
    with pytest.raises(CommandError, match=r"(?s)--amendment .*Nothing was written"):
        call_command("load_protocol", str(path))
    call_command("load_protocol", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "protocol version 2 -- dry run, nothing written" in out
    assert "timepoints 12m: window_after_days 45 -> 60" in out
    assert "timepoints 6m: removed: 2 contact(s) cancelled (2 participants)" in out
    assert ProtocolVersion.objects.count() == 1
    call_command("load_protocol", str(path), "--amendment", "EPN 2017/123")
    out = capsys.readouterr().out
    assert "protocol version 2 (amendment EPN 2017/123)" in out
    assert ProtocolVersion.objects.get(number=2).amendment == "EPN 2017/123"


def test_removing_an_instrument_with_responses_is_refused(cohort, tmp_path, betterback):
    three = Timepoint.objects.get(trial=betterback, code="3m")
    respond(cohort["midway"], three, "pei", random.Random(1), days=92)
    path = betterback_edited(
        tmp_path,
        (
            "offset = 3\nwindow_before_days = 7\nwindow_after_days = 30\ninstruments = "
            '["nrs", "odi", "eq5d3l", "bipq", "pei", "satisfaction", "pgic", "bb_costs"]',
            "offset = 3\nwindow_before_days = 7\nwindow_after_days = 30\ninstruments = "
            '["nrs", "odi", "eq5d3l", "bipq", "satisfaction", "pgic", "bb_costs"]',
        ),
    )
    state = list(Contact.objects.values_list("id", "status", "due_on", "protocol_version"))
    with pytest.raises(ProtocolError, match=r"timepoints 3m: pei is removed, but pei has 1 resp"):
        load_versioned(path, amendment="EPN 2017/200")
    assert ProtocolVersion.objects.count() == 1
    assert list(Contact.objects.values_list("id", "status", "due_on", "protocol_version")) == state


def test_dropping_a_timepoint_with_responses_is_refused(cohort, tmp_path, betterback):
    six = Timepoint.objects.get(trial=betterback, code="6m")
    respond(cohort["midway"], six, "odi", random.Random(1), days=183)
    with pytest.raises(ProtocolError, match="timepoints 6m: the timepoint is removed, but odi"):
        load_versioned(betterback_v2(tmp_path), amendment="EPN 2017/123")
    assert not Timepoint.objects.filter(code="9m").exists()


def test_an_instrument_edited_under_the_same_version_is_refused_once_answered(
    cohort, tmp_path, betterback
):
    three = Timepoint.objects.get(trial=betterback, code="3m")
    respond(cohort["midway"], three, "odi", random.Random(1), days=92)
    # Version 1 was loaded when ODI v1's items read differently (an edit in place since).
    v1 = ProtocolVersion.objects.get()
    v1.instruments["odi"]["fingerprint"] = "0" * 16
    v1.save()
    with pytest.raises(ProtocolError, match=r"instrument odi version 1: its items changed"):
        load_versioned(betterback_v2(tmp_path), amendment="EPN 2017/123")


def test_an_item_changed_without_a_new_instrument_version_is_refused(cohort, tmp_path, betterback):
    # bb_costs is declared in the protocol file: its first item's maximum changes, the
    # version stays 1, and answers were given on version 1.
    three = Timepoint.objects.get(trial=betterback, code="3m")
    respond(cohort["midway"], three, "bb_costs", random.Random(1), days=92)
    first_item = 'kind = "number"\nmin = 0\nmax = 366\ntext = {en = "Since the last'
    path = betterback_edited(tmp_path, (first_item, first_item.replace("366", "30")))
    with pytest.raises(
        ProtocolError, match=r"bb_costs version 1 is already defined with other items"
    ) as refused:
        load_versioned(path, amendment="EPN 2017/500")
    assert "needs a new instrument version" in str(refused.value)
    assert ProtocolVersion.objects.count() == 1


def test_moving_a_crossover_into_the_past_is_refused(cohort, tmp_path, betterback):
    path = betterback_edited(tmp_path, ("crossover = 2017-09-18", "crossover = 2017-10-02"))
    with pytest.raises(ProtocolError, match=r"clusters C: moving the crossover .* is refused"):
        load_versioned(path, amendment="EPN 2017/300")
    assert str(Cluster.objects.get(trial=betterback, code="C").crossover) == "2017-09-18"


def test_a_future_crossover_may_move_later(betterback, tmp_path, clinic_west):
    today = _today(betterback)
    soon, later = today + timedelta(days=30), today + timedelta(days=60)
    first = betterback_edited(tmp_path, ("crossover = 2017-09-18", f"crossover = {soon}"))
    load_versioned(first, amendment="EPN 2017/1")
    enrol(clinic_west, enrolled_on=today)
    second = betterback_edited(tmp_path, ("crossover = 2017-09-18", f"crossover = {later}"))
    result = load_versioned(second, amendment="EPN 2017/2")
    assert f"clusters C: crossover {soon} -> {later}" in [c.text() for c in result.changes]
    assert Cluster.objects.get(code="C").crossover == later


def test_withdrawn_and_unchanged_participants_keep_their_enrolment_version(cohort, tmp_path):
    load_versioned(betterback_v2(tmp_path), amendment="EPN 2017/123")
    assert set(Participant.objects.values_list("protocol_version__number", flat=True)) == {1}


def test_a_changed_instrument_list_and_eligibility_are_listed_with_their_reach(cohort, tmp_path):
    path = betterback_edited(
        tmp_path,
        (
            "offset = 3\nwindow_before_days = 7\nwindow_after_days = 30\ninstruments = "
            '["nrs", "odi", "eq5d3l", "bipq", "pei", "satisfaction", "pgic", "bb_costs"]',
            "offset = 3\nwindow_before_days = 7\nwindow_after_days = 30\ninstruments = "
            '["nrs", "odi", "eq5d3l", "bipq", "pei", "satisfaction", "pgic", "bb_costs", "sbst"]',
        ),
        ('text = "Aged 18-65 years"', 'text = "Aged 18-70 years"'),
    )
    dry = load_versioned(path, amendment="EPN 2017/400", dry_run=True)
    by_change = {c["change"]: c for c in dry.consequences}
    listed = by_change["timepoints 3m: instruments +sbst"]
    assert (listed["contacts"], listed["participants"]) == (1, 1)  # recent's 3m
    assert listed["note"] == "1 invitation(s) already sent keep the list they were sent with"
    assert by_change["eligibility: 1 change(s)"]["note"].startswith("applies to screenings")
    assert load_versioned(path, amendment="EPN 2017/400").consequences == dry.consequences
    # The invitation sent before the amendment asks version 1's list; the one not yet
    # due asks version 2's, on its survey pages as in the dispatcher's completion check.
    sent = Contact.objects.get(participant=cohort["sent"], timepoint__code="3m")
    recent = Contact.objects.get(participant=cohort["recent"], timepoint__code="3m")
    assert "sbst" not in instruments_for(sent) and instruments_for(recent)[-1] == "sbst"
    assert _visit(sent).instrument_codes == instruments_for(sent)
    assert Timepoint.objects.get(code="3m").instruments[-1] == "sbst"
