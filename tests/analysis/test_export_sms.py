"""Weekly SMS answers are exported like any other instrument, with the week number since
baseline (issue: weekly SMS tracking, 'Data')."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from analysis.exports import long_export, wide_export
from followup.models import SmsPrompt
from followup.sms import tracking

from ..factories import enrol
from ..followup.conftest import clinic_of, safe  # noqa: F401 - the SAFE trial fixture


@pytest.fixture
def answered(safe, settings):  # noqa: F811
    """Two participants; the first answers weeks 1-3 (pain, then sick leave), the second
    answers week 2's pain only."""
    settings.SMS_BACKEND = "followup.sms.backends.InMemoryBackend"
    a = enrol(clinic_of(safe), enrolled_on=date(2022, 1, 5), mobile="+4520000001")
    b = enrol(clinic_of(safe), enrolled_on=date(2022, 1, 5), mobile="+4520000002")
    for week, (pain, days) in enumerate([(6, 2), (5, 1), (3, 0)], start=1):
        at = SmsPrompt.objects.get(participant=a, week=week).due_at
        tracking.run(now=at)
        _reply(a, str(pain), at + timedelta(minutes=1))
        if week == 2:
            _reply(b, "8", at + timedelta(minutes=1))
        tracking.run(now=at + timedelta(minutes=2))
        _reply(a, str(days), at + timedelta(minutes=3))
    return safe, a, b


def _reply(p, text, at):
    stored, _ = tracking.store(f"SM{p.pk}-{at.timestamp()}", p.personal_details.mobile, text, at)
    tracking.receive(stored.pk, at)


def _table(export):
    names = [v.name for v in export.vars]
    return names, [dict(zip(names, row, strict=True)) for row in export.rows()]


def test_long_export_has_one_row_per_week_and_variable(answered):
    trial, a, b = answered
    _names, rows = _table(long_export(trial, "score"))
    sms = [r for r in rows if r["instrument"] == "sms_tracking"]
    got = sorted(((r["study_id"], r["week"], r["variable"], r["value"]) for r in sms), key=str)
    pain, days = "sms_tracking_pain", "sms_tracking_sick_leave_days"
    expected = [(a.study_id, w, pain, v) for w, v in [(1, 6), (2, 5), (3, 3)]]
    expected += [(a.study_id, w, days, v) for w, v in [(1, 2), (2, 1), (3, 0)]]
    expected += [(b.study_id, 2, pain, 8), (b.study_id, 2, days, None)]
    assert got == sorted(expected, key=str)
    assert {r["entry_mode"] for r in sms} == {"patient_sms"}
    # the week is empty for the ordinary timepoints
    assert all(r["week"] is None for r in rows if r["instrument"] != "sms_tracking")


def test_wide_export_has_a_column_per_week(answered):
    trial, a, b = answered
    names, rows = _table(wide_export(trial, "score"))
    assert "sms_tracking_pain_w01" in names and "sms_tracking_pain_w52" in names
    assert "days_from_baseline_sms" not in names
    row = {r["study_id"]: r for r in rows}
    assert [row[a.study_id][f"sms_tracking_pain_w0{w}"] for w in (1, 2, 3, 4)] == [
        6,
        5,
        3,
        None,
    ]
    assert row[b.study_id]["sms_tracking_pain_w02"] == 8
    assert row[b.study_id]["sms_tracking_sick_leave_days_w02"] is None


def test_stata_keeps_the_week_in_every_weekly_column_name(answered, tmp_path):
    import pyreadstat

    from analysis.exports import write_export

    trial, a, _b = answered
    write_export(trial, tmp_path / "safe.dta", "dta", "wide", "score")
    df, meta = pyreadstat.read_dta(str(tmp_path / "safe.dta"))
    weekly = [c for c in df.columns if c.startswith("sms_tracking_")]
    assert len(weekly) == 104 and "sms_tracking_sick_leave_days_w52" in weekly
    row = df.set_index("study_id").loc[a.study_id]
    assert (row["sms_tracking_pain_w01"], row["sms_tracking_sick_leave_days_w01"]) == (6, 2)
