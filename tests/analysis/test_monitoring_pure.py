"""Monitoring as plain functions of plain data: every expected number below is counted by
hand (or by a separate loop in the test) from the rows given, never by the code under test."""

import random
from collections import Counter
from datetime import date

from analysis import monitoring as mon
from analysis.monitoring import figures
from enrolment.consort import screening_flow
from followup.schedule import add_months

CLUSTERS = [
    {"code": "W", "name": "West", "clinics": [{"code": "MOT", "name": "Motala"}]},
    {
        "code": "C",
        "name": "Central",
        "clinics": [{"code": "EKH", "name": "Ekholmen"}, {"code": "LAM", "name": "Lambohov"}],
    },
]
TPS = [
    {"code": "3m", "label": "3 months", "offset": 3, "unit": "months", "window_after_days": 30},
    {"code": "12m", "label": "12 months", "offset": 12, "unit": "months", "window_after_days": 45},
]


def test_recruitment_per_cluster_clinic_month_and_week():
    rows = [
        {"clinic": "MOT", "day": date(2017, 4, 3), "n": 15},  # West April: 15 >= 14
        {"clinic": "MOT", "day": date(2017, 5, 30), "n": 21},  # West May: above 20
        {"clinic": "EKH", "day": date(2017, 4, 10), "n": 4},
        {"clinic": "LAM", "day": date(2017, 4, 28), "n": 5},  # Central April: 9 < 14
        {"clinic": "LAM", "day": date(2017, 6, 1), "n": 2},  # June: not complete yet
        {"clinic": "XXX", "day": date(2017, 6, 1), "n": 99},  # another clinic: not shown
    ]
    months = mon.month_range(date(2017, 4, 1), date(2017, 6, 30))
    weeks = [date(2017, 5, 22), date(2017, 5, 29)]  # Mondays
    rec = mon.recruitment(
        rows,
        CLUSTERS,
        months=months,
        weeks=weeks,
        today=date(2017, 6, 2),
        target=14,
        ceiling=20,
        sample_size=402,
    )
    assert months == [date(2017, 4, 1), date(2017, 5, 1), date(2017, 6, 1)]
    west, central = rec.clusters
    assert west["months"] == [15, 21, 0] and west["total"] == 36
    assert central["months"] == [9, 0, 2] and central["total"] == 11
    assert west["flags"] == ["", "above", ""]
    assert central["flags"] == ["below", "below", ""]  # June is not over on 2 June
    assert [c["total"] for c in rec.clinics] == [36, 4, 7]
    assert west["weeks"] == [0, 21] and central["weeks"] == [0, 2]  # 30 May, 1 June
    assert rec.totals == [24, 21, 2] and rec.cumulative == [24, 45, 47]
    assert rec.planned_cumulative == [28, 56, 84]  # 14 x 2 clusters per month
    assert rec.total == 47


def test_planned_recruitment_stops_at_the_sample_size():
    # BetterBack: 14 a cluster-month x 3 clusters x 12 months would be 504; it plans 402.
    three = CLUSTERS + [{"code": "E", "name": "East", "clinics": []}]
    months = mon.month_range(date(2017, 2, 1), date(2018, 1, 31))
    rec = mon.recruitment(
        [], three, months=months, weeks=[], today=date(2018, 2, 1), target=14, sample_size=402
    )
    assert rec.planned_cumulative[:3] == [42, 84, 126]
    assert rec.planned_cumulative[8] == 378  # month 9: 9 x 42, still below
    assert rec.planned_cumulative[9:] == [402, 402, 402]


def test_dogleg_schedule_as_table_2():
    months = mon.month_range(date(2017, 4, 1), date(2017, 11, 1))
    rows = mon.dogleg_schedule(
        [
            {"code": "W", "name": "West", "crossover": date(2017, 4, 1)},
            {"code": "C", "name": "Central", "crossover": date(2017, 9, 18)},
            {"code": "N", "name": "North", "crossover": date(2017, 10, 1)},
            {"code": "E", "name": "East", "crossover": None},
        ],
        months,
    )
    labels = [[c["label"] for c in r["cells"]] for r in rows]
    assert labels[0] == ["1"] * 8  # intervention from the start, no crossover marked
    assert labels[1] == ["0"] * 5 + ["0|1", "1", "1"]
    assert labels[2] == ["0"] * 6 + ["1", "1"]
    assert labels[3] == ["0"] * 8
    marked = [
        [c["crossover"] for c in r["cells"]].index(True)
        if any(c["crossover"] for c in r["cells"])
        else None
        for r in rows
    ]
    assert marked == [None, 5, 6, None]
    svg = figures.schedule_svg(rows, months)
    assert svg.startswith("<svg") and "0|1" in svg and "Central" in svg


def test_followup_summary_rates_overdue_reminders():
    contacts = (
        [{"timepoint": "3m", "condition": "control", "status": "completed", "reminders_sent": 1}]
        * 6
        + [{"timepoint": "3m", "condition": "control", "status": "missed", "reminders_sent": 2}] * 2
        + [
            {
                "timepoint": "3m",
                "condition": "control",
                "status": "invited",
                "reminders_sent": 1,
                "overdue": True,
            }
        ]
        * 3
        + [{"timepoint": "3m", "condition": "control", "status": "scheduled", "reminders_sent": 0}]
        + [{"timepoint": "3m", "condition": "control", "status": "cancelled", "reminders_sent": 0}]
        # a group row standing for 4 contacts
        + [
            {
                "timepoint": "12m",
                "condition": "intervention",
                "status": "missed",
                "n": 4,
                "reminders_sent": 8,
                "overdue": 0,
            }
        ]
    )
    out = mon.followup_summary(contacts, ["3m", "12m"])
    assert [(r["timepoint"], r["condition"]) for r in out] == [
        ("3m", "control"),
        ("12m", "intervention"),
    ]
    c = out[0]
    assert (c["contacts"], c["completed"], c["missed"], c["open"], c["cancelled"]) == (
        13,
        6,
        2,
        4,
        1,
    )
    assert c["overdue"] == 3 and c["reminders"] == 6 + 4 + 3
    assert c["rate"] == 6 / 8
    i = out[1]
    assert (i["contacts"], i["missed"], i["rate"], i["reminders"]) == (4, 4, 0.0, 8)


def test_sms_weekly_rate_three_missed_and_opt_outs():
    rows = []
    answers = {"A": [1, 1, 0, 0, 0], "B": [0, 0, 0, 1], "C": [1, 0, 0, 0], "D": [0, 0]}
    for p, weeks in answers.items():
        for w, a in enumerate(weeks, start=1):
            rows.append({"participant": p, "week": w, "answered": bool(a)})
    s = mon.sms_summary(rows, opted_out=["D", "D", "B"])
    assert s["weeks"][0] == {"week": 1, "sent": 4, "answered": 2, "rate": 0.5}
    assert [(w["week"], w["sent"], w["answered"]) for w in s["weeks"]] == [
        (1, 4, 2),
        (2, 4, 1),
        (3, 3, 0),
        (4, 3, 1),
        (5, 1, 0),
    ]
    # A: weeks 3-5 missed; C: weeks 2-4 missed; B answered its last week; D only 2 weeks
    assert s["missed_in_a_row"] == ["A", "C"]
    assert s["opt_outs"] == ["B", "D"]


def _random_flow_data(seed):
    rng = random.Random(seed)
    reasons = ["age", "swedish", "serious-pathology"]
    raw = []
    for _ in range(rng.randint(50, 150)):
        outcome = rng.choice(["ineligible", "declined", "eligible", "enrolled", "enrolled"])
        unmet = rng.sample(reasons, rng.randint(1, 2)) if outcome == "ineligible" else []
        raw.append({"outcome": outcome, "unmet_criteria": unmet})
    grouped = Counter((r["outcome"], tuple(r["unmet_criteria"])) for r in raw)
    screen_rows = [
        {"outcome": o, "unmet_criteria": list(u), "n": n} for (o, u), n in grouped.items()
    ]
    people = []
    enrolled = sum(r["outcome"] == "enrolled" for r in raw)
    unscreened = rng.randint(0, 3)
    for k in range(enrolled + unscreened):
        enrolled_on = date(2017, rng.randint(4, 12), rng.randint(1, 28))
        withdrawn = None
        if rng.random() < 0.2:
            withdrawn = date(2017, 4, 1).fromordinal(enrolled_on.toordinal() + rng.randint(1, 500))
        people.append(
            {
                "condition": rng.choice(["control", "intervention"]),
                "enrolled_on": enrolled_on,
                "withdrawn_on": withdrawn,
                "screened": k < enrolled,
                "responded": {t["code"] for t in TPS if rng.random() < 0.7},
            }
        )
    return raw, screen_rows, people, unscreened


def test_consort_adds_up_on_random_trials():
    """Every screened patient lands in exactly one final box, over many random trials;
    each box checked against a count made here, independently."""
    today = date(2018, 9, 1)
    for seed in range(30):
        raw, screen_rows, people, unscreened = _random_flow_data(seed)
        flow = mon.consort_flow(
            screen_rows,
            people,
            TPS,
            [("control", "Control"), ("intervention", "BetterBack")],
            today,
        )
        assert flow.adds_up
        # the screening boxes agree with enrolment.consort on the ungrouped rows
        ref = screening_flow(raw)
        assert (flow.excluded, flow.declined, flow.awaiting_consent) == (
            ref.excluded,
            ref.declined,
            ref.awaiting,
        )
        assert flow.excluded_by_reason == ref.excluded_by_reason
        assert flow.assessed == ref.assessed + unscreened == len(raw) + unscreened
        assert flow.enrolled == ref.enrolled + unscreened == len(people)
        # independent placement: one final box per participant
        expected = Counter()
        for p in people:
            box = None
            for t in TPS:
                due = add_months(p["enrolled_on"], t["offset"])
                if p["withdrawn_on"] and p["withdrawn_on"] < due:
                    box = "withdrawn"
                    break
            if box is None:
                closes = add_months(p["enrolled_on"], 12).toordinal() + 45
                if "12m" in p["responded"]:
                    box = "analysed"
                elif closes < today.toordinal():
                    box = "lost"
                else:
                    box = "pending"
            expected[(p["condition"], box)] += 1
        for arm in flow.arms:
            assert arm.allocated == sum(p["condition"] == arm.condition for p in people)
            got = {
                "withdrawn": arm.withdrawn,
                "analysed": arm.analysed,
                "lost": arm.lost,
                "pending": arm.pending,
            }
            for box, n in got.items():
                assert n == expected[(arm.condition, box)], (seed, arm.condition, box)


def test_consort_withdrawal_and_timepoint_boxes_by_hand():
    people = [
        # withdrawn in May: before 3m (due 2 Jul)
        {
            "condition": "control",
            "enrolled_on": date(2017, 4, 2),
            "withdrawn_on": date(2017, 5, 1),
            "responded": set(),
        },
        # answered 3m, withdrawn before 12m
        {
            "condition": "control",
            "enrolled_on": date(2017, 4, 2),
            "withdrawn_on": date(2017, 8, 1),
            "responded": {"3m"},
        },
        # missed 3m, answered 12m: analysed
        {
            "condition": "control",
            "enrolled_on": date(2017, 4, 2),
            "withdrawn_on": None,
            "responded": {"12m"},
        },
        # 12m window closes 2018-04-02 + 45 days = 17 May 2018, after "today": pending
        {
            "condition": "control",
            "enrolled_on": date(2017, 4, 2),
            "withdrawn_on": None,
            "responded": {"3m"},
        },
    ]
    screened = [{"outcome": "enrolled", "unmet_criteria": [], "n": 4}]
    flow = mon.consort_flow(screened, people, TPS, [("control", "Control")], date(2018, 5, 1))
    arm = flow.arms[0]
    assert arm.withdrawn_before == Counter({"3m": 1, "12m": 1})
    assert arm.responded == Counter({"3m": 2, "12m": 1})
    assert arm.no_response == Counter({"3m": 1})
    assert arm.awaiting == Counter({"12m": 1})
    assert (arm.analysed, arm.lost, arm.pending, arm.withdrawn) == (1, 0, 1, 2)
    assert flow.adds_up


def test_consort_figure_shows_every_box_number():
    raw, screen_rows, people, _ = _random_flow_data(3)
    flow = mon.consort_flow(
        screen_rows,
        people,
        TPS,
        [("control", "Control"), ("intervention", "BetterBack")],
        date(2018, 9, 1),
    )
    svg = figures.consort_svg(flow, {"age": "Aged 18-65 years"})
    assert f"Assessed for eligibility (n={flow.assessed})" in svg
    assert f"Not meeting criteria (n={flow.excluded})" in svg
    assert f"Aged 18-65 years: {flow.excluded_by_reason['age']}" in svg
    for arm in flow.arms:
        assert f"Allocated to {arm.label}" in svg and f"(n={arm.allocated})" in svg
        assert f"Analysed at 12 months (n={arm.analysed})" in svg
        assert f"Withdrawn (n={arm.withdrawn})" in svg
    pdf = figures.consort_pdf(flow)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def three_enrolled_in_april(**goals):
    """Recruitment of April to June 2017 with three enrolled at MOT on 3 April."""
    return mon.recruitment(
        [{"clinic": "MOT", "day": date(2017, 4, 3), "n": 3}],
        CLUSTERS,
        months=mon.month_range(date(2017, 4, 1), date(2017, 6, 1)),
        weeks=[],
        today=date(2017, 7, 1),
        **goals,
    )


def test_recruitment_figure_has_the_labels():
    rec = three_enrolled_in_april(target=14, ceiling=20, sample_size=402)
    svg = figures.recruitment_svg(rec)
    assert "sample size 402" in svg and "target 14" in svg and "West" in svg
    assert 'viewBox="' in svg and "width=" not in svg.split(">", 1)[0]


def test_weekly_email_follows_the_settings(settings):
    settings.MONITORING_WEEKLY_EMAIL = False
    assert not mon.weekly_email_enabled()
    assert mon.send_weekly_summaries_now() == 0  # no database touched when off
    settings.MONITORING_CLUSTER_EMAILS = {"bb:W": ["m@x"]}
    assert mon.cluster_recipients() == {"bb:W": ["m@x"]}


def test_clinic_weeks_counts_each_clinic_by_week():
    weeks = [date(2017, 3, 6), date(2017, 3, 13)]
    rows = {
        "screened": [
            {"clinic": "A", "day": date(2017, 3, 7), "n": 3},
            {"clinic": "A", "day": date(2017, 1, 2), "n": 5},  # before the weeks shown
            {"clinic": "Z", "day": date(2017, 3, 7), "n": 9},  # a clinic not asked for
        ],
        "enrolled": [
            {"clinic": "A", "day": date(2017, 3, 12)},
            {"clinic": "B", "day": date(2017, 3, 13)},
        ],
        "due": [{"clinic": "A", "day": date(2017, 3, 14), "n": 4}],
        "completed": [{"clinic": "A", "day": date(2017, 3, 14), "n": 3}],
    }
    a, b = mon.clinic_weeks(
        [{"code": "A", "name": "Ace"}, {"code": "B", "name": "Bee"}], weeks, rows
    )
    assert [(w["screened"], w["enrolled"], w["due"], w["completed"]) for w in a["weeks"]] == [
        (3, 1, 0, 0),
        (0, 0, 4, 3),
    ]
    assert (a["screened"], a["screened_all"], a["enrolled_all"]) == (3, 8, 1)
    assert a["weeks"][1]["rate"] == 0.75 and a["weeks"][0]["rate"] is None
    assert b["weeks"][1]["enrolled"] == 1 and b["screened_all"] == 0


def test_two_requests_never_draw_a_figure_at_once():
    """Every figure sets matplotlib's process-wide settings while it draws: the figures of
    two dashboards served by two threads are drawn one after the other."""
    import threading
    import time

    from analysis.monitoring.drawing import Drawing

    spans, ready = [], threading.Barrier(2)

    def figure(name):
        start = time.monotonic()
        time.sleep(0.05)
        spans.append((start, time.monotonic()))
        return name

    def request(name):
        ready.wait()
        with Drawing() as drawing:
            assert [drawing.draw(figure, f"{name}{k}").result() for k in range(3)] == [
                f"{name}{k}" for k in range(3)
            ]

    threads = [threading.Thread(target=request, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans.sort()
    assert len(spans) == 6
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:], strict=False))


def test_a_timepoint_added_late_is_not_scheduled_for_whom_its_date_had_passed():
    """An amendment adds 15 months on 2019-03-01: a participant due before then was never
    asked (followup.amendments), one due after was; one who answered anyway counts as
    responded. At the analysis timepoint they are counted apart and the arm adds up."""
    fifteen = {"code": "15m", "label": "15 months", "offset": 15, "unit": "months",
               "window_after_days": 30, "planned_from": date(2019, 3, 1)}  # fmt: skip
    today = date(2019, 9, 1)
    early = {"condition": "control", "enrolled_on": date(2017, 10, 2), "responded": set()}
    answered = {**early, "responded": {"15m"}}
    late = {"condition": "control", "enrolled_on": date(2018, 1, 15), "responded": set()}
    assert mon.placement(early, [fifteen], today) == {"15m": mon.NOT_SCHEDULED}
    assert mon.placement(answered, [fifteen], today) == {"15m": mon.RESPONDED}
    assert mon.placement(late, [fifteen], today) == {"15m": mon.NO_RESPONSE}
    flow = mon.consort_flow([], [early, answered, late], [fifteen], [("control", "C")], today)
    (arm,) = flow.arms
    assert (arm.not_scheduled["15m"], arm.unscheduled, arm.analysed, arm.lost) == (1, 1, 1, 1)
    assert arm.adds_up
    svg = figures.consort_svg(flow)
    assert "Not scheduled, added later (n=1)" in svg


def test_planned_from_is_the_first_due_date_the_amendment_still_planned():
    """followup.amendments skips a new timepoint's contact whose invitation (the due date
    at the send time, in the trial's zone) is not after the load: loaded at 08:59
    Stockholm time, 09:00 that day is still planned; loaded at 09:00 it is not."""
    from datetime import UTC, datetime, time
    from types import SimpleNamespace

    from analysis.monitoring.queries import planned_from

    def added(at_utc, send=None):
        return SimpleNamespace(
            added_in_id=1,
            added_in=SimpleNamespace(loaded_at=at_utc),
            trial=SimpleNamespace(time_zone="Europe/Stockholm"),
            at=send,
        )

    winter = datetime(2019, 3, 1, 7, 59, tzinfo=UTC)  # 08:59 in Stockholm
    assert planned_from(added(winter, time(9))) == date(2019, 3, 1)
    assert planned_from(added(winter.replace(minute=0, hour=8), time(9))) == date(2019, 3, 2)
    assert planned_from(SimpleNamespace(added_in_id=None)) is None


def test_recruitment_axes_count_people_in_whole_numbers():
    """A handful enrolled made matplotlib tick 0.5, 1.0, 1.5 ... people."""
    fig = figures.recruitment_figure(three_enrolled_in_april())
    for ax in fig.axes:
        ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
