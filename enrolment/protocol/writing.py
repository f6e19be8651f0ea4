"""Writing a validated protocol to the database: ``load_protocol(path)`` (a new protocol
version through :mod:`enrolment.amendments`) and ``write_trial``, which creates or updates
the trial's rows in one transaction and saves only rows whose values changed, so loading
the same file twice changes nothing (and adds no audit history); rows the file no longer
names are removed where nothing refers to them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.db import transaction

from .. import consent_protocol, edit_checks, tags
from .sections import WEEKDAYS, ProtocolError
from .spec import ProtocolSpec


class LoadReport:
    def __init__(self) -> None:
        self.created: list[str] = []
        self.updated: list[str] = []
        self.unchanged = 0
        self.fresh: set[tuple] = set()  # (model, pk) of the rows this load created

    def made(self, obj) -> bool:
        """Whether this load created ``obj``: nothing can hang under it yet."""
        return (type(obj), obj.pk) in self.fresh

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def __str__(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {self.unchanged} unchanged"
        )


def _upsert(model, report: LoadReport, reason: str, lookup: dict, values: dict):
    """Create or update one row, saving only when a value differs. Under a row this load
    has just created (a new trial, its new clusters) nothing can exist yet: no lookup
    (a third of a first load's queries)."""
    fresh = any(report.made(v) for v in lookup.values() if hasattr(v, "pk"))
    obj = None if fresh else model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        report.fresh.add((model, obj.pk))
        report.created.append(f"{model.__name__} {obj}")
        return obj
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if not changed:
        report.unchanged += 1
        return obj
    for k in changed:
        setattr(obj, k, values[k])
    obj._change_reason = reason
    obj.save()
    report.updated.append(f"{model.__name__} {obj}: {', '.join(changed)}")
    return obj


def load_protocol(
    path: Path | str, shift_days: int = 0, *, amendment: str = "", loaded_by=None
) -> tuple[object, LoadReport]:
    """Create or update the trial described by ``path``; one transaction. A changed file
    becomes a new protocol version and re-plans enrolled participants
    (:mod:`enrolment.amendments`)."""
    from ..amendments import load_versioned

    result = load_versioned(path, shift_days, amendment=amendment, loaded_by=loaded_by)
    return result.trial, result.report


@transaction.atomic
def write_trial(path: Path, spec: ProtocolSpec, reason: str = "") -> tuple[object, LoadReport]:
    """Write the trial rows of a validated ``spec``, saving only what changed."""
    from ..models import (
        Arm,
        Clinic,
        Cluster,
        DeviationType,
        EligibilityCriterion,
        SmsSchedule,
        Timepoint,
        Trial,
    )

    report = LoadReport()
    reason = reason or f"protocol file {path.name}"
    t = spec.trial
    trial = _upsert(
        Trial,
        report,
        reason,
        {"code": t.code},
        {
            "study_id_prefix": t.study_id_prefix,
            "name": t.name,
            "registration": t.registration,
            "design": t.design,
            "time_zone": t.time_zone,
            "languages": t.languages,
            "default_language": t.default_language,
            "eq5d_value_set": t.eq5d_value_set,
            "recruitment_start": t.recruitment_start,
            "recruitment_end": t.recruitment_end,
            "target_sample_size": t.target_sample_size,
            "recruitment_target_per_cluster_month": t.recruitment_target_per_cluster_month,
            "recruitment_ceiling_per_cluster_month": t.recruitment_ceiling_per_cluster_month,
            "washout_days": t.washout_days,
            "consent_form_version": t.consent_form_version,
            "retention_until": t.retention_until,
            "blinded": t.blinded,
            "monitor_sees_personal_details": t.monitor_sees_personal_details,
            "two_factor_required": t.two_factor_required,
            "query_digest": t.query_digest,
            "edit_checks": edit_checks.stored(spec),
            "contact": spec.contact.stored(),
            "randomisation": spec.randomisation.model_dump() if spec.randomisation else {},
            "prices": spec.prices.model_dump() if spec.prices else {},
            "sample_size": spec.sample_size.model_dump() if spec.sample_size else {},
            "paper": spec.paper.model_dump() if spec.paper else {},
            "instrument_tags": tags.stored(spec),
            "enrolment_fields": spec.enrolment.model_dump(),
            "instrument_versions": dict(spec.instrument_versions),
            "imports": [i.model_dump() for i in spec.imports],
            "protocol_file": path.name,
            "protocol_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        },
    )
    for arm in spec.arms:
        _upsert(Arm, report, reason, {"trial": trial, "code": arm.code}, {"label": arm.label})
    _remove_missing(
        Arm.objects.filter(trial=trial), {a.code for a in spec.arms}, path, "arms", report, trial
    )

    # Allocation orders may be permuted by an edit: clear them first so that the unique
    # constraint on (trial, allocation_order) never trips half-way.
    orders = {c.code: c.allocation_order for c in spec.clusters}
    if not report.made(trial):
        for cluster in Cluster.objects.filter(trial=trial):
            if cluster.code in orders and cluster.allocation_order != orders[cluster.code]:
                Cluster.objects.filter(pk=cluster.pk).update(
                    allocation_order=10_000 + cluster.pk
                )
    for c in spec.clusters:
        cluster = _upsert(
            Cluster,
            report,
            reason,
            {"trial": trial, "code": c.code},
            {
                "name": c.name,
                "allocation_order": c.allocation_order,
                "crossover": c.crossover,
                "language": c.language or "",
            },
        )
        for clinic in c.clinics:
            _upsert(
                Clinic,
                report,
                reason,
                {"cluster": cluster, "code": clinic.code},
                {"name": clinic.name, "planned_physiotherapists": clinic.physiotherapists},
            )
        _remove_missing(
            Clinic.objects.filter(cluster=cluster),
            {x.code for x in c.clinics},
            path,
            f"clusters {c.code} clinics",
            report,
            cluster,
        )
    _remove_missing(
        Cluster.objects.filter(trial=trial),
        {c.code for c in spec.clusters},
        path,
        "clusters",
        report,
        trial,
    )
    for order, tp in enumerate(spec.timepoints, start=1):
        _upsert(
            Timepoint,
            report,
            reason,
            {"trial": trial, "code": tp.code},
            {
                "label": tp.label
                if isinstance(tp.label, str)
                else tp.label.get("en") or tp.label[spec.trial.default_language],
                "labels": tp.label if isinstance(tp.label, dict) else {},
                "order": order,
                "respondent": tp.respondent,
                "anchor": tp.anchor,
                "offset": tp.offset,
                "unit": tp.unit,
                "window_before_days": tp.window_before_days,
                "window_after_days": tp.window_after_days,
                "workshop_day": tp.workshop_day,
                "at": tp.at,
                "instruments": tp.instruments,
                "tags": tp.tags,
            },
        )
    _remove_missing(
        # A timepoint an amendment dropped stays for the contacts that refer to it.
        Timepoint.objects.filter(trial=trial, removed_in__isnull=True),
        {t.code for t in spec.timepoints},
        path,
        "timepoints",
        report,
        trial,
    )
    for order, crit in enumerate(spec.eligibility, start=1):
        _upsert(
            EligibilityCriterion,
            report,
            reason,
            {"trial": trial, "code": crit.code},
            {"kind": crit.kind, "text": crit.text, "rule": crit.rule, "order": order},
        )
    _remove_missing(
        EligibilityCriterion.objects.filter(trial=trial),
        {c.code for c in spec.eligibility},
        path,
        "eligibility",
        report,
        trial,
    )
    for order, dt in enumerate(spec.deviation_types, start=1):
        _upsert(
            DeviationType,
            report,
            reason,
            {"trial": trial, "code": dt.code},
            {"label": dt.label, "per_protocol": dt.per_protocol, "order": order},
        )
    _remove_missing(
        DeviationType.objects.filter(trial=trial),
        {d.code for d in spec.deviation_types},
        path,
        "deviation_types",
        report,
        trial,
    )
    if spec.sms:
        _upsert(
            SmsSchedule,
            report,
            reason,
            {"trial": trial},
            {
                "weeks": spec.sms.weeks,
                "weekday": WEEKDAYS.index(spec.sms.weekday),
                "send_time": spec.sms.time,
                "reminder_after_hours": spec.sms.reminder_after_hours,
                "questions": [q.model_dump() for q in spec.sms.questions],
            },
        )
    else:
        SmsSchedule.objects.filter(trial=trial).delete()
    consent_protocol.load(trial, spec.consent, path, report, reason)
    return trial, report


def _remove_missing(
    queryset, keep: set[str], path: Path, where: str, report: LoadReport, parent
) -> None:
    """Delete rows the file no longer lists; refuse where data already hangs on them.
    Nothing to look for under a ``parent`` this load created."""
    from django.db.models import ProtectedError

    if report.made(parent):
        return

    for obj in queryset.exclude(code__in=keep):
        try:
            with transaction.atomic():
                obj.delete()
        except ProtectedError:
            raise ProtocolError(
                path, [f"{where}: {obj.code!r} is missing from the file but has data; keep it"]
            ) from None
