"""The dashboard over a randomly generated BetterBack trial: every number is checked
against a count made in the test from the rows themselves; access by role; downloads."""

import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from analysis import monitoring as mon
from enrolment.actions.enrol import enrol_participant
from enrolment.actions.status import withdraw_participant
from enrolment.models import Clinic, Participant, ScreeningRecord, Timepoint
from enrolment.protocol.writing import load_protocol
from followup.schedule import offset_date
from questionnaires.instruments import get
from questionnaires.models import Response
from tests.built_once import rolled_back
from tests.conftest import PROTOCOLS, use_betterback_built_once
from tests.factories import PersonalFactory, UserFactory, enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

TODAY = date(2018, 9, 1)
CLINICS = ("MOT", "EKH", "NCE", "HAG")


def _answers(code, rng, drop=0):
    ins = get(code)
    items = [i for i in ins.items if i.required]
    out = {i.id: (i.min if i.min is not None else i.choices[0].code) for i in items}
    for item in rng.sample(items, drop):
        del out[item.id]
    return out


def _response(p, tp, code, rng, when, entry=0, drop=0):
    return Response.objects.create(
        participant=p,
        timepoint=tp,
        instrument=code,
        version=get(code).version,
        answers=_answers(code, rng, drop),
        mode=Response.PATIENT_ONLINE,
        entry=entry,
        started_at=when,
        completed_at=when,
    )


@pytest.fixture(scope="module")
def _trial_data(django_db_setup, django_db_blocker):
    """Built once for the module (tests/built_once.py): the tests only read it."""
    with rolled_back(django_db_blocker):
        trial, _ = load_protocol(PROTOCOLS / "betterback.toml")
        yield _build(trial).pk


@pytest.fixture
def trial_data(_trial_data, betterback):
    return betterback


def _build(betterback):
    rng = random.Random(20170401)
    staff = UserFactory(username="screener")
    clinics = [Clinic.objects.get(cluster__trial=betterback, code=c) for c in CLINICS]
    criteria = list(betterback.eligibility.values_list("code", flat=True))
    tps = {t.code: t for t in betterback.timepoints.all()}
    for _ in range(45):
        clinic = rng.choice(clinics)
        day = date(2017, rng.randint(4, 12), rng.randint(1, 28))
        outcome = rng.choice(["ineligible", "declined", "eligible", "enrolled", "enrolled"])
        rec = ScreeningRecord.objects.create(
            trial=betterback,
            clinic=clinic,
            screened_on=day,
            screened_by=staff,
            unmet_criteria=rng.sample(criteria, rng.randint(1, 2))
            if outcome == "ineligible"
            else [],
            outcome="eligible" if outcome == "enrolled" else outcome,
        )
        if outcome == "enrolled":
            enrol_participant(
                clinic=clinic,
                enrolled_on=day,
                personal=PersonalFactory(),
                consent={"consented_on": day, "form_version": "1.0", "taken_by": staff},
                screening=rec,
            )
    enrol(clinics[0], enrolled_on=date(2017, 6, 5))  # no screening-log entry
    for p in Participant.objects.filter(trial=betterback):
        if rng.random() < 0.2:
            withdraw_participant(p, p.enrolled_on + timedelta(days=rng.randint(10, 400)), "moved")
        for code in ("3m", "6m", "12m"):
            tp = tps[code]
            if rng.random() < 0.3:
                continue
            due = offset_date(p.enrolled_on, tp.offset, tp.unit)
            shift = rng.choice([0, 5, -tp.window_before_days - 2, tp.window_after_days + 3])
            when = datetime.combine(
                due + timedelta(days=shift), datetime.min.time(), UTC
            ) + timedelta(hours=10)
            for code_i in ("nrs", "odi"):
                _response(p, tp, code_i, rng, when, drop=rng.choice([0, 0, 0, 1, 2]))
        if rng.random() < 0.2:  # paper form entered twice, not resolved
            when = datetime(2018, 1, 5, 10, tzinfo=UTC)
            _response(p, tps["baseline"], "eq5d3l", rng, when, entry=1)
            _response(p, tps["baseline"], "eq5d3l", rng, when, entry=2)
        if rng.random() < 0.4:
            p.final_visit_on = p.enrolled_on + timedelta(days=40)
            p._change_reason = "final visit"
            p.save()
            if rng.random() < 0.5:
                _response(p, tps["crpe-final"], "crpe", rng, datetime(2018, 1, 5, 10, tzinfo=UTC))
    return betterback


def _expected_boxes(trial):
    """Final CONSORT box per participant, counted here from the rows."""
    follow = list(
        trial.timepoints.filter(respondent=Timepoint.PATIENT, offset__gt=0).order_by("order")
    )
    answered = set(
        Response.objects.filter(entry=0, completed_at__isnull=False).values_list(
            "participant_id", "timepoint__code"
        )
    )
    boxes = Counter()
    for p in Participant.objects.filter(trial=trial):
        box = None
        for t in follow:
            if p.withdrawn_on and p.withdrawn_on < offset_date(p.enrolled_on, t.offset, t.unit):
                box = "withdrawn"
                break
        last = follow[-1]
        if box is None:
            closes = offset_date(p.enrolled_on, last.offset, last.unit) + timedelta(
                days=last.window_after_days
            )
            box = (
                "analysed"
                if (p.pk, last.code) in answered
                else "lost"
                if closes < TODAY
                else "pending"
            )
        boxes[(p.condition, box)] += 1
    return boxes


def test_consort_from_the_database_adds_up(trial_data):
    participants = Participant.objects.filter(trial=trial_data)
    flow = mon.consort_for(
        trial_data, participants, ScreeningRecord.objects.filter(trial=trial_data), TODAY
    )
    assert flow.adds_up
    records = ScreeningRecord.objects.filter(trial=trial_data)
    assert flow.assessed == records.count() + 1 and flow.unscreened == 1
    assert flow.excluded == records.filter(outcome="ineligible").count()
    assert flow.declined == records.filter(outcome="declined").count()
    assert flow.enrolled == participants.count()
    reasons = Counter(
        r
        for u in records.filter(outcome="ineligible").values_list("unmet_criteria", flat=True)
        for r in u
    )
    assert flow.excluded_by_reason == reasons
    expected = _expected_boxes(trial_data)
    for arm in flow.arms:
        assert arm.allocated == participants.filter(condition=arm.condition).count()
        assert (arm.withdrawn, arm.analysed, arm.lost, arm.pending) == tuple(
            expected[(arm.condition, b)] for b in ("withdrawn", "analysed", "lost", "pending")
        )


def test_data_quality_numbers(trial_data):
    participants = Participant.objects.filter(trial=trial_data)
    dq = mon.data_quality(trial_data, participants)
    finals = Response.objects.filter(entry=0, completed_at__isnull=False)
    for row in dq["missing_items"]:
        required = [i.id for i in get(row["instrument"], row["version"]).items if i.required]
        these = finals.filter(instrument=row["instrument"])
        gaps = [sum(1 for i in required if r.answers.get(i) is None) for r in these]
        assert row["responses"] == len(gaps)
        assert row["incomplete"] == sum(1 for g in gaps if g)
        assert row["missing_items"] == sum(gaps)
    assert {r["instrument"] for r in dq["missing_items"]} == {"nrs", "odi", "crpe"}
    # out of window, by hand
    late = Counter()
    early = Counter()
    for r in finals.filter(timepoint__code__in=["3m", "6m", "12m"]).select_related(
        "timepoint", "participant"
    ):
        t = r.timepoint
        due = offset_date(r.participant.enrolled_on, t.offset, t.unit)
        day = r.completed_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Stockholm")).date()
        if day < due - timedelta(days=t.window_before_days):
            early[t.code] += 1
        elif day > due + timedelta(days=t.window_after_days):
            late[t.code] += 1
    got = {r["timepoint"]: r for r in dq["out_of_window"]}
    for code in ("3m", "6m", "12m"):
        assert (got[code]["early"], got[code]["late"]) == (early[code], late[code])
    assert sum(late.values()) + sum(early.values()) > 0
    pairs = Counter((r.participant_id, r.instrument) for r in Response.objects.filter(entry__gt=0))
    assert dq["double_entries"] == sum(1 for n in pairs.values() if n == 2) > 0
    with_visit = participants.filter(final_visit_on__isnull=False)
    crpe_done = set(
        finals.filter(timepoint__code="crpe-final").values_list("participant_id", flat=True)
    )
    assert dq["crpe_missing"] == sum(1 for p in with_visit if p.pk not in crpe_done) > 0


def test_followup_section_matches_contacts(trial_data):
    Contact = mon.contact_model()
    if Contact is None:
        pytest.skip("followup has no Contact model yet")
    participants = Participant.objects.filter(trial=trial_data)
    out = mon.followup_summary(mon.followup_rows(participants, TODAY))
    for row in out:
        qs = Contact.objects.filter(
            timepoint__code=row["timepoint"], participant__condition=row["condition"]
        )
        assert row["contacts"] == qs.count()
        assert row["completed"] == qs.filter(status="completed").count()
        assert (
            row["overdue"]
            == qs.filter(status__in=["scheduled", "invited"], due_on__lt=TODAY).count()
        )


def _numbers(html, element_id):
    return re.search(rf'id="{element_id}"[^>]*>(\d+)<', html).group(1)


def test_dashboard_for_the_coordinator(
    client, trial_data, coordinator, django_assert_max_num_queries
):
    client.force_login(coordinator)
    url = reverse("monitoring_dashboard", args=["betterback"]) + f"?today={TODAY}"
    # Constant in the trial's size; data management's open queries, source verification and
    # the missing-data reasons each add their own grouped query.
    with django_assert_max_num_queries(44):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    participants = Participant.objects.filter(trial=trial_data)
    assert _numbers(html, "total-enrolled") == str(participants.count())
    assert _numbers(html, "total-assessed") == str(ScreeningRecord.objects.count() + 1)
    assert "<svg" in html and "Assessed for eligibility" in html
    per_cluster = Counter(participants.values_list("clinic__cluster__code", flat=True))
    for code, n in per_cluster.items():
        assert f'?cluster={code}">{n}</a>' in html
    # the list behind "CRPE missing" has exactly that many participants
    n = int(_numbers(html, "crpe-missing"))
    listing = client.get(reverse("monitoring_participants", args=["betterback", "crpe-missing"]))
    assert listing.content.decode().count('href="/participants/') == n
    svg = client.get(reverse("monitoring_consort", args=["betterback", "svg"]))
    assert svg["Content-Type"] == "image/svg+xml" and b"Assessed for eligibility" in svg.content
    pdf = client.get(reverse("monitoring_consort", args=["betterback", "pdf"]))
    assert pdf.content.startswith(b"%PDF")


def test_listing_behind_consort_and_missing_items(client, trial_data, coordinator):
    client.force_login(coordinator)
    base = reverse("monitoring_participants", args=["betterback", "consort"])
    flow = mon.consort_for(
        trial_data, Participant.objects.all(), ScreeningRecord.objects.all(), TODAY
    )
    for arm in flow.arms:
        for t in flow.timepoints:
            page = client.get(
                f"{base}?box=withdrawn_before&timepoint={t['code']}"
                f"&condition={arm.condition}&today={TODAY}"
            )
            assert (
                page.content.decode().count('href="/participants/')
                == arm.withdrawn_before[t["code"]]
            )
    page = client.get(
        reverse("monitoring_participants", args=["betterback", "missing-items"]) + "?instrument=odi"
    )
    finals = Response.objects.filter(entry=0, instrument="odi")
    required = [i.id for i in get("odi").items if i.required]
    ids = {r.participant.study_id for r in finals if any(i not in r.answers for i in required)}
    assert page.content.decode().count('href="/participants/') == len(ids)


def test_physiotherapist_sees_own_clinic_only(client, trial_data, physio_west, physio_east):
    client.force_login(physio_west)
    html = client.get(reverse("monitoring_dashboard", args=["betterback"])).content.decode()
    mine = Participant.objects.filter(clinic__code="MOT").count()
    assert _numbers(html, "total-enrolled") == str(mine)
    assert "Ekholmen" not in html and "your clinic only" in html
    assert _numbers(html, "total-assessed") == str(
        ScreeningRecord.objects.filter(clinic__code="MOT").count() + 1
    )
    assert client.get(reverse("monitoring_consort", args=["betterback", "pdf"])).status_code == 403


def test_a_clinic_view_shows_no_cluster_plan(client, trial_data, physio_west, coordinator):
    # The protocol's target is per cluster-month: a single clinic has no share of it.
    client.force_login(physio_west)
    url = reverse("monitoring_dashboard", args=["betterback"]) + f"?today={TODAY}"
    html = client.get(url).content.decode()
    table = html.split('id="recruitment-table"')[1].split("</table>")[0]
    assert "Planned" not in table and "target 14" not in table
    assert "no plan for a single clinic" in html
    assert "flag-below" not in table
    client.force_login(coordinator)
    table = client.get(url).content.decode().split('id="recruitment-table"')[1]
    assert "Planned" in table.split("</table>")[0]


def test_access(client, trial_data, statistician):
    url = reverse("monitoring_dashboard", args=["betterback"])
    assert client.get(url).status_code == 302
    client.force_login(UserFactory(username="nobody"))
    assert client.get(url).status_code == 404
    client.force_login(statistician)
    assert client.get(url).status_code == 200


def test_weekly_summaries(trial_data, coordinator, mailoutbox, settings):
    coordinator.email = "coordinator@example.org"
    coordinator.save()
    messages = mon.weekly_summaries(trial_data, TODAY, {"betterback:W": ["west@example.org"]})
    assert [m.to for m in messages] == [["coordinator@example.org"], ["west@example.org"]]
    west = Participant.objects.filter(clinic__cluster__code="W").count()
    assert "- West: " in messages[0].body and f"{west} in all" in messages[1].body
    assert "@" not in messages[0].body.replace("coordinator@example.org", "")
    settings.MONITORING_CLUSTER_EMAILS = {"betterback:W": ["west@example.org"]}
    sent = mon.send_weekly_summaries_now(TODAY)
    assert sent == 2 and len(mailoutbox) == 2


def test_the_figures_are_drawn_beside_the_queries_in_the_readers_language(
    client, trial_data, coordinator, monkeypatch
):
    """Each figure is drawn in a thread of its own while the request's thread goes on
    with the next queries (issue 19: the figures took as long as the queries of a cold
    dashboard), one at a time, and in the reader's language."""
    import threading

    from django.core.cache import cache
    from django.utils.translation import get_language

    from analysis.monitoring import figures

    drawn = []

    def spy(name, real):
        def draw(*args):
            drawn.append((name, threading.get_ident(), get_language()))
            return real(*args)

        return draw

    for name in ("recruitment_svg", "schedule_svg", "consort_svg"):
        monkeypatch.setattr(figures, name, spy(name, getattr(figures, name)))
    cache.clear()
    client.force_login(coordinator)
    html = client.get(
        reverse("monitoring_dashboard", args=["betterback"]) + f"?today={TODAY}",
        HTTP_ACCEPT_LANGUAGE="sv",
    ).content.decode()
    assert [d[0] for d in drawn] == ["recruitment_svg", "schedule_svg", "consort_svg"]
    threads = {d[1] for d in drawn}
    assert len(threads) == 1 and threading.get_ident() not in threads
    assert {d[2] for d in drawn} == {"sv"}
    assert html.count("<svg") == 3 and "Bedömda för behörighet (n=" in html


def test_a_blinded_statistician_finds_no_participant_by_arm(client, trial_data, statistician):
    """The dashboard's numbers by arm stay; the lists behind them would name each
    participant's arm, so they are not linked, and a list asked for by arm is of every
    arm, as on the participant list."""
    from django.db.models import Count

    client.force_login(statistician)
    html = client.get(reverse("monitoring_dashboard", args=["betterback"]) + f"?today={TODAY}")
    html = html.content.decode()
    assert "consort-arm" in html and "?condition=" not in html and "&condition=" not in html
    base = reverse("monitoring_participants", args=["betterback", "consort"])
    arms = dict(
        Participant.objects.filter(trial=trial_data)
        .values_list("condition")
        .annotate(n=Count("pk"))
    )
    assert len(arms) == 2
    lists = {
        condition: client.get(
            f"{base}?box=responded&timepoint=3m&condition={condition}&today={TODAY}"
        ).content.decode()
        for condition in arms
    }
    one, other = lists.values()
    assert _ids(one) == _ids(other) and _ids(one)
    assert 'id="blinded"' in one and "Arm:" not in one


def test_the_coordinators_list_says_what_it_is_of_in_words(client, trial_data, coordinator):
    client.force_login(coordinator)
    base = reverse("monitoring_participants", args=["betterback", "consort"])
    page = client.get(f"{base}?box=no_response&timepoint=3m&condition=control&today={TODAY}")
    described = page.content.decode().split('id="filters">')[1].split("</p>")[0]
    assert described == (
        "Box: No response · Timepoint: 3 months · Arm: Current routine practice"
    )
    html = client.get(reverse("monitoring_dashboard", args=["betterback"]) + f"?today={TODAY}")
    table = html.content.decode().split('id="followup-table"')[1].split("</table>")[0]
    assert "<td>3 months</td><td>Current routine practice</td>" in table
    assert "condition=control" in table  # the coordinator's numbers lead to their lists


def _ids(page: str) -> list[str]:
    return re.findall(r'href="/participants/([^/]+)/"', page)
