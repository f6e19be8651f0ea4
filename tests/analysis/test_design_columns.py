"""The analysis dataset's design columns as plain functions: enrolled_month, period and
per_protocol (issue 16), and the monitoring table of deviations per type and cluster."""

from datetime import date

import pytest

from analysis import design_columns as dc
from analysis.monitoring import deviation_table


@pytest.mark.parametrize(
    "start,day,months",
    [
        (date(2017, 4, 3), date(2017, 4, 3), 0),
        (date(2017, 4, 3), date(2017, 5, 2), 0),  # one day short of a month
        (date(2017, 4, 3), date(2017, 5, 3), 1),
        (date(2017, 1, 31), date(2017, 2, 28), 0),  # no 31 February: not yet a month
        (date(2017, 1, 31), date(2017, 3, 1), 1),
        (date(2017, 4, 3), date(2018, 1, 31), 9),
        (date(2017, 12, 15), date(2018, 1, 15), 1),  # over a new year
        (date(2017, 3, 15), date(2017, 1, 20), -1),  # before the start: whole months back
    ],
)
def test_whole_months_count_complete_calendar_months(start, day, months):
    assert dc.whole_months(start, day) == months
    assert dc.enrolled_month(start, day) == months


def test_betterback_has_two_periods_split_at_the_central_crossover():
    # West starts in the intervention on the first day of recruitment: no new period.
    starts = dc.period_starts([date(2017, 4, 1), date(2017, 9, 18), None], date(2017, 4, 1))
    assert starts == [date(2017, 9, 18)]
    assert dc.period(starts, date(2017, 4, 1)) == 1
    assert dc.period(starts, date(2017, 9, 17)) == 1
    assert dc.period(starts, date(2017, 9, 18)) == 2  # on the crossover day
    assert dc.period(starts, date(2018, 1, 31)) == 2


def test_each_crossover_day_after_the_start_begins_one_period():
    start = date(2020, 1, 1)
    crossovers = [date(2020, 3, 1), date(2020, 3, 1), date(2020, 6, 1), date(2019, 12, 1)]
    starts = dc.period_starts(crossovers, start)
    assert starts == [date(2020, 3, 1), date(2020, 6, 1)]  # same day once; before start none
    assert [
        dc.period(starts, d) for d in (date(2020, 2, 1), date(2020, 4, 1), date(2020, 7, 1))
    ] == [1, 2, 3]


def test_no_crossover_means_one_period_and_no_start_counts_every_crossover():
    assert dc.period(dc.period_starts([None, None], date(2021, 11, 1)), date(2023, 1, 1)) == 1
    assert dc.period_starts([date(2017, 4, 1)], None) == [date(2017, 4, 1)]


def test_per_protocol_is_lost_by_any_excluding_deviation():
    assert dc.per_protocol(0) is True
    assert dc.per_protocol(1) is False
    assert dc.per_protocol(3) is False


def test_deviation_table_counts_per_type_and_cluster_with_zeros_and_totals():
    types = [
        {"code": "ineligible", "label": "Ineligible"},
        {"code": "consent", "label": "Consent"},
        {"code": "other", "label": "Other"},
    ]
    clusters = [{"code": "W", "name": "West"}, {"code": "C", "name": "Central"}]
    rows = [
        {"type": "ineligible", "cluster": "W", "n": 2, "excluding": 2},
        {"type": "ineligible", "cluster": "C", "n": 1, "excluding": 1},
        {"type": "consent", "cluster": "C", "n": 3, "excluding": 0},
        {"type": "other", "cluster": "C", "n": 2, "excluding": 1},
    ]
    t = deviation_table(rows, types, clusters)
    assert [(r["code"], r["counts"], r["total"], r["excluding"]) for r in t["types"]] == [
        ("ineligible", [2, 1], 3, 3),
        ("consent", [0, 3], 3, 0),
        ("other", [0, 2], 2, 1),
    ]
    assert t["totals"] == [2, 6] and t["total"] == 8 and t["excluding"] == 4
