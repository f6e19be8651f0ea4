"""Amendments that would change what stored answers mean are refused (a receiver of
``enrolment.amendments.protocol_amendment_checks``; each refusal names the reason)."""

from __future__ import annotations

from django.db.models import Count

from .models import Response


def refusals(sender, trial, spec, previous, instruments, **kwargs) -> list[str]:
    answered = Response.objects.filter(timepoint__trial=trial, entry=Response.FINAL)
    return (
        _removed_instruments(trial, spec, answered)
        + _edited_definitions(previous, instruments, answered)
        + _sms_ranges(previous, spec, answered)
    )


def _removed_instruments(trial, spec, answered) -> list[str]:
    listed = {t.code: set(t.instruments) for t in spec.timepoints}
    counts = {
        (r["timepoint__code"], r["instrument"]): r["n"]
        for r in answered.values("timepoint__code", "instrument").annotate(n=Count("id"))
    }
    out = []
    for tp in trial.timepoints.filter(removed_in=None):
        for code in tp.instruments:
            n = counts.get((tp.code, code))
            if n and code not in listed.get(tp.code, set()):
                what = "the timepoint is removed" if tp.code not in listed else f"{code} is removed"
                out.append(
                    f"timepoints {tp.code}: {what}, but {code} has {n} response(s) there; "
                    "an instrument with responses stays in the protocol"
                )
    return out


def _edited_definitions(previous, instruments: dict, answered) -> list[str]:
    if previous is None:
        return []
    out = []
    for code, now in instruments.items():
        then = previous.instruments.get(code)
        if (
            not then
            or then["version"] != now["version"]
            or then["fingerprint"] == now["fingerprint"]
        ):
            continue
        n = answered.filter(instrument=code, version=now["version"]).count()
        if n:
            out.append(
                f"instrument {code} version {now['version']}: its items changed since protocol "
                f"version {previous.number}, but {n} response(s) were answered on it; a changed "
                "item needs a new instrument version (responses keep the one they were answered on)"
            )
    return out


def _sms_ranges(previous, spec, answered) -> list[str]:
    old = ((previous.spec if previous else {}) or {}).get("sms") or {}
    if not old or spec.sms is None:
        return []
    before = {q["code"]: (q["min"], q["max"]) for q in old.get("questions", [])}
    out = []
    for q in spec.sms.questions:
        was = before.get(q.code)
        if was is None or was == (q.min, q.max):
            continue
        n = answered.filter(instrument="sms_tracking", answers__has_key=q.code).count()
        if n:
            out.append(
                f"sms questions {q.code}: the range {was[0]}..{was[1]} becomes {q.min}..{q.max}, "
                f"but {n} answer(s) were given on the old one; ask a new question (a new code)"
            )
    return out
