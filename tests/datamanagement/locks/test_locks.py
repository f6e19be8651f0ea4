"""Every lock level against every write path: the model's save and delete, the correction
page (the correction flow), the visit pages, the admin, the `rescore` command and the SMS
dispatcher (the Celery task's body). A refusal shows the lock's message, never a 500;
unlocking needs a reason and is audited."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from datamanagement.locks import services as locks
from datamanagement.locks.models import Lock
from enrolment import guards
from enrolment.models import Participant, Timepoint
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.saving import correct_response
from tests.conftest import use_betterback_built_once

from ...questionnaires.engine_helpers import as_post, valid_answers
from .conftest import nrs_3m

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

# Every level, with what it covers of the participant's 3-month NRS form.
LEVELS = [
    Lock.RESPONSE,
    Lock.PARTICIPANT_TIMEPOINT,
    Lock.PARTICIPANT,
    Lock.TIMEPOINT,
    Lock.TRIAL,
]
# Levels that also refuse a new form of the 3-month visit, and a change to the participant.
COVERS_NEW_FORMS = {Lock.PARTICIPANT_TIMEPOINT, Lock.PARTICIPANT, Lock.TIMEPOINT, Lock.TRIAL}
COVERS_PARTICIPANT = {Lock.PARTICIPANT, Lock.TRIAL}


def make_lock(level, participant, user):
    tp = Timepoint.objects.get(trial=participant.trial, code="3m")
    kwargs = {
        Lock.RESPONSE: {"response": nrs_3m(participant)},
        Lock.PARTICIPANT_TIMEPOINT: {"participant": participant, "timepoint": tp},
        Lock.PARTICIPANT: {"participant": participant},
        Lock.TIMEPOINT: {"timepoint": tp},
        Lock.TRIAL: {},
    }[level]
    return locks.lock(level, trial=participant.trial, user=user, reason="test", **kwargs)


@pytest.mark.parametrize("level", LEVELS)
def test_model_save_and_delete_are_refused_with_the_locks_message(level, participant,
                                                                  data_manager):
    make_lock(level, participant, data_manager)
    response = nrs_3m(participant)
    response.answers = {**response.answers, "back": 0}
    response._change_reason = "typo"
    with pytest.raises(guards.WriteRefused, match="Locked: "):
        response.save()
    with pytest.raises(guards.WriteRefused, match="A data manager must unlock it"):
        nrs_3m(participant).delete()
    # Another visit of the same participant is not covered by a timepoint-level lock.
    base = Response.objects.get(participant=participant, timepoint__code="baseline",
                                instrument="nrs")
    base._change_reason = "typo"
    base.answers = {**base.answers, "back": 1}
    if level in {Lock.PARTICIPANT, Lock.TRIAL}:
        with pytest.raises(guards.WriteRefused):
            base.save()
    else:
        base.save()


@pytest.mark.parametrize("level", LEVELS)
def test_the_correction_flow_refuses(level, participant, data_manager, client):
    make_lock(level, participant, data_manager)
    response = nrs_3m(participant)
    before = dict(response.answers)
    with pytest.raises(guards.WriteRefused):
        correct_response(response, {**before, "back": 0}, "typo", data_manager)
    client.force_login(data_manager)
    url = reverse("response_correct", args=[response.pk])
    page = client.get(url)
    assert "Locked: " in page.content.decode()  # the page says so before anyone types
    r = client.post(url, as_post({**before, "back": 0}, reason="typo"))
    assert r.status_code == 200
    assert "A data manager must unlock it" in r.content.decode()
    # No answer is at fault: nothing asks the reader to check answers marked below.
    assert "Please check the answers marked below." not in r.content.decode()
    response.refresh_from_db()
    assert response.answers == before


@pytest.mark.parametrize("level", LEVELS)
def test_the_visit_pages_refuse_a_new_form_of_a_locked_visit(level, participant,
                                                             data_manager, client):
    make_lock(level, participant, data_manager)
    client.force_login(data_manager)
    # eq5d3l is the third form of the 3-month visit and was never answered.
    url = reverse("visit_page", args=[participant.study_id, "3m", 3])
    client.post(reverse("visit_start", args=[participant.study_id, "3m"]),
                {"confirm_early": "1"})
    r = client.post(url, as_post(valid_answers(get("eq5d3l")), action="next"))
    saved = Response.objects.filter(participant=participant, timepoint__code="3m",
                                    instrument="eq5d3l").exists()
    if level in COVERS_NEW_FORMS:
        assert r.status_code == 200 and not saved
        assert "A data manager must unlock it" in r.content.decode()
    else:
        assert r.status_code == 302 and saved


@pytest.mark.parametrize("level", LEVELS)
def test_paper_entry_refuses_without_a_500(level, participant, data_manager, client):
    make_lock(level, participant, data_manager)
    client.force_login(data_manager)
    url = reverse("paper_entry", args=[participant.study_id, "3m", "eq5d3l"])
    r = client.post(url, as_post(valid_answers(get("eq5d3l"))))
    made = Response.objects.filter(participant=participant, instrument="eq5d3l").exists()
    if level in COVERS_NEW_FORMS:
        assert r.status_code == 200 and not made
        assert "A data manager must unlock it" in r.content.decode()
    else:
        assert r.status_code == 302 and made


@pytest.mark.parametrize("level", LEVELS)
def test_the_site_and_the_admin_refuse_a_change_to_a_locked_participant(
    level, participant, data_manager, client, admin_client
):
    make_lock(level, participant, data_manager)
    client.force_login(data_manager)
    r = client.post(
        reverse("participant_withdraw", args=[participant.study_id]),
        {"withdrawn_on": "2017-06-01", "withdrawal_reason": "moved",
         "withdrawal_scope": Participant.FOLLOW_UP_ONLY, "reason": "asked"},
    )
    assert r.status_code in (200, 302)
    url = reverse("admin:enrolment_participant_change", args=[participant.pk])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(late_enrolment_reason="changed in the admin", change_reason="test",
                status=participant.status)
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in data.items()}
    r = admin_client.post(url, data)
    participant.refresh_from_db()
    if level in COVERS_PARTICIPANT:
        assert participant.status == Participant.ACTIVE
        assert r.status_code == 200 and "A data manager must unlock it" in r.content.decode()
        assert participant.late_enrolment_reason == ""
    else:
        assert participant.late_enrolment_reason == "changed in the admin", r.content[:3000]


@pytest.mark.parametrize("level", LEVELS)
def test_rescore_refuses_locked_forms_and_says_so(level, participant, data_manager):
    make_lock(level, participant, data_manager)
    # Scores out of date (as after a fix of a scoring rule), written past the guard.
    Response.objects.filter(participant=participant).update(scores={})
    out, err = StringIO(), StringIO()
    call_command("rescore", stdout=out, stderr=err)
    assert nrs_3m(participant).scores == {}
    assert "REFUSED: Locked: " in out.getvalue()
    assert "locked and were not rescored" in err.getvalue()
    base = Response.objects.get(participant=participant, timepoint__code="baseline",
                                instrument="odi")
    assert (base.scores == {}) == (level in {Lock.PARTICIPANT, Lock.TRIAL})


def test_unlocking_needs_a_reason_and_is_audited(participant, data_manager):
    lock = make_lock(Lock.TIMEPOINT, participant, data_manager)
    assert make_lock(Lock.TIMEPOINT, participant, data_manager) == lock  # no second lock
    with pytest.raises(Exception, match="Unlocking needs a reason"):
        locks.unlock(lock, user=data_manager, reason=" ")
    locks.unlock(lock, user=data_manager, reason="query answered after the freeze")
    lock.refresh_from_db()
    assert not lock.is_active and lock.unlocked_by == data_manager
    assert lock.history.first().history_change_reason == (
        "unlocked: query answered after the freeze"
    )
    correct_response(nrs_3m(participant), {"back": 0, "leg": 0}, "typo", data_manager)
    assert nrs_3m(participant).answers == {"back": 0, "leg": 0}


def test_lock_and_unlock_pages(participant, data_manager, monitor, client):
    client.force_login(monitor)
    url = reverse("datamanagement:lock", args=[participant.study_id])
    assert client.post(url, {"level": "participant"}).status_code == 403
    freeze = reverse("datamanagement:freeze", args=["betterback"])
    assert client.post(freeze, {"timepoint": "3m"}).status_code == 403
    client.force_login(data_manager)
    client.post(url, {"level": "participant_timepoint", "timepoint": "3m", "reason": "clean"})
    lock = Lock.objects.get()
    page = client.get(reverse("participant_detail", args=[participant.study_id])).content
    assert b"lock-badge" in page and b"3 months" in page
    r = client.post(reverse("datamanagement:unlock", args=[lock.pk]), {"reason": ""})
    assert r.status_code == 302 and Lock.objects.active().exists()
    client.post(reverse("datamanagement:unlock", args=[lock.pk]), {"reason": "reopened"})
    assert not Lock.objects.active().exists()
    client.post(freeze, {"timepoint": "3m", "reason": "interim"})
    trial_page = client.get(reverse("datamanagement:trial", args=["betterback"])).content
    assert b"freeze-row" in trial_page


def test_a_physiotherapist_sees_the_lock_but_not_the_lock_pages(participant, data_manager,
                                                                physio_west, client):
    make_lock(Lock.PARTICIPANT, participant, data_manager)
    client.force_login(physio_west)
    page = client.get(reverse("participant_detail", args=[participant.study_id])).content
    assert b"lock-badge" in page
    url = reverse("datamanagement:participant", args=[participant.study_id])
    assert client.get(url).status_code == 403


def test_the_admin_lists_locks_read_only(participant, data_manager, admin_client):
    lock = make_lock(Lock.PARTICIPANT, participant, data_manager)
    assert admin_client.get(reverse("admin:datamanagement_lock_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:datamanagement_lock_change", args=[lock.pk]))
    assert page.status_code == 200
    admin_client.post(reverse("admin:datamanagement_lock_change", args=[lock.pk]),
                      {"unlocked_at_0": "2020-01-01", "unlocked_at_1": "00:00"})
    lock.refresh_from_db()
    assert lock.is_active


def test_the_retention_command_skips_a_locked_participant_and_erases_the_others(
    participant, data_manager, clinic_west
):
    from datetime import date

    from enrolment.models import PersonalDetails, Trial

    from ...factories import enrol

    other = enrol(clinic_west)
    Trial.objects.filter(pk=participant.trial_id).update(retention_until=date(2020, 1, 1))
    make_lock(Lock.PARTICIPANT, participant, data_manager)
    out, err = StringIO(), StringIO()
    call_command("retention", "--erase", "--today", "2026-01-01", stdout=out, stderr=err)
    assert f"{participant.study_id} refused: Locked: " in err.getvalue()
    assert not PersonalDetails.objects.get(participant=participant).is_erased
    assert PersonalDetails.objects.get(participant=other).is_erased


def test_a_swedish_page_names_the_frozen_timepoint_in_swedish(participant, data_manager,
                                                              physio_west, client):
    make_lock(Lock.TIMEPOINT, participant, data_manager)
    client.force_login(physio_west)
    url = reverse("response_correct", args=[nrs_3m(participant).pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Låst: 3 månader (betterback)" in page and "3 months" not in page


def test_a_frozen_timepoint_offers_nothing_its_lock_would_refuse(participant, data_manager,
                                                                 coordinator, client):
    """Found walking the demo: a frozen 3 months still offered paper entry, refused only
    once the form was filled in. Its row says why instead; the baseline's stays open."""
    tp = Timepoint.objects.get(trial=participant.trial, code="3m")
    locks.lock(Lock.TIMEPOINT, trial=participant.trial, timepoint=tp, user=data_manager,
               reason="3-month data frozen for the interim analysis")
    client.force_login(coordinator)
    html = client.get(reverse("participant_detail", args=[participant.study_id])).content.decode()
    paper_3m = reverse("paper_entry", args=[participant.study_id, "3m", "eq5d3l"])
    paper_baseline = reverse("paper_entry", args=[participant.study_id, "baseline", "eq5d3l"])
    assert paper_3m not in html and paper_baseline in html
    assert html.count('class="small text-body-secondary timepoint-locked"') == 1
    assert reverse("response_correct", args=[nrs_3m(participant).pk]) not in html
    # The address typed directly: the lock is said before anything is entered.
    page = client.get(paper_3m).content.decode()
    assert "A data manager must unlock it" in page
    not_done = reverse("mark_not_done", args=[participant.study_id, "3m"])
    assert "A data manager must unlock it" in client.get(not_done).content.decode()
    # The tablet is not handed over for a visit every answer of which would be refused:
    # back on the participant page, with the reason.
    for url in (reverse("visit_start", args=[participant.study_id, "3m"]),
                reverse("visit_page", args=[participant.study_id, "3m", 1])):
        r = client.get(url, follow=True)
        assert r.redirect_chain[-1][0] == reverse("participant_detail",
                                                  args=[participant.study_id])
        assert "A data manager must unlock it" in r.content.decode()


def test_the_refusal_tells_the_locks_time_on_the_trials_clock_outside_any_page(
    participant, data_manager
):
    """A Celery task and a command run on UTC: the message they store or print still
    gives the time the data manager saw on the trial's pages (BetterBack: Stockholm)."""
    from datetime import UTC, datetime

    from django.utils import timezone

    lock = make_lock(Lock.PARTICIPANT, participant, data_manager)
    Lock.objects.filter(pk=lock.pk).update(locked_at=datetime(2026, 7, 1, 22, 30, tzinfo=UTC))
    response = nrs_3m(participant)
    response._change_reason = "typo"
    with timezone.override("UTC"), pytest.raises(guards.WriteRefused) as refused:
        response.save()
    assert "2026-07-02 00:30" in str(refused.value)  # CEST, the next day


def test_the_participant_lock_offers_the_participants_visits_only(participant, data_manager,
                                                                 client):
    """The physiotherapists' workshop timepoints are no visit of a participant's; the page
    names its trial as the menu does, not by its code."""
    client.force_login(data_manager)
    html = client.get(reverse("datamanagement:participant", args=[participant.study_id]))
    html = html.content.decode()
    trial = participant.trial
    physio = Timepoint.objects.filter(trial=trial, respondent=Timepoint.PHYSIOTHERAPIST)
    assert physio.exists()
    for tp in physio:
        assert f'<option value="{tp.code}">' not in html
    assert '<option value="3m">' in html
    assert f"{trial.study_id_prefix} data management</a>" in html
