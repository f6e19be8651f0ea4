"""Run the analysis plan on a trial's current data, as ``manage.py analyse`` does.

The data the command reads from files is written from the database first (analysis
dataset, physiotherapist dataset, registry utilisation, prices, recruitment), then the
very same command runs on them, so the browser and the command line cannot disagree.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from enrolment.models import Participant, Timepoint, Trial
from questionnaires.models import Response

from . import exports, imports, questionnaire_costs, registry
from .models import AnalysisRun

ANALYSES = {
    "mixed": "Primary multilevel model (clinic, clinic x time, period) and sensitivity model",
    "mi": "Intention to treat with multiple imputation (m = 20); per-protocol and washout "
    "sensitivity",
    "paired": "Physiotherapists: matched-pairs t-tests of PCS and PABS-PT",
    "specialist": "Incidence of specialist care within 12 months (registry)",
    "mcid": "Minimal clinically important difference anchored on PGIC",
    "cea": "Cost-effectiveness (QALY, registry costs, ICER, plane, acceptability curve)",
    "pilot": "Internal pilot progression criteria",
}
OUTCOMES = ["nrs_back", "odi", "eq5d_index", "bipq_total"]
# BetterBack timepoint codes of the physiotherapist questionnaires -> analysis codes.
PHYSIO_TIMEPOINTS = {"pt-before": "before", "pt-after": "after", "pt-3m": "3m", "pt-12m": "12m"}
# The protocol's progression question ("I expect that the application of BetterBack model
# of care will be useful", 1 agree completely - 5 do not agree at all) is DIBQ item q24.
DIBQ_USEFUL_ITEM: str | None = "q24"


def runs_dir() -> Path:
    return Path(settings.VAR_DIR) / "analysis"


def physio_dataset(trial: Trial) -> pd.DataFrame:
    """Physiotherapist dataset of analysis.plan.dataset (one row per physio and time)."""
    rows: dict[tuple[str, str], dict] = {}
    qs = Response.objects.filter(
        physiotherapist__clinic__cluster__trial=trial,
        timepoint__respondent=Timepoint.PHYSIOTHERAPIST,
        entry=Response.FINAL,
        completed_at__isnull=False,
    ).values_list("physiotherapist__study_code", "timepoint__code", "instrument", "scores",
                  "answers")
    for physio, tp, code, scores, answers in qs.iterator(chunk_size=exports.CHUNK):
        if tp not in PHYSIO_TIMEPOINTS:
            continue
        rec = rows.setdefault((physio, tp), {"physio_id": physio,
                                             "timepoint": PHYSIO_TIMEPOINTS[tp]})
        if code == "pcs":
            rec["pcs_total"] = scores.get("total")
        elif code == "pabs_pt":
            rec["pabs_pt_biomedical"] = scores.get("biomedical")
            rec["pabs_pt_biopsychosocial"] = scores.get("biopsychosocial")
        elif code == "dibq" and DIBQ_USEFUL_ITEM:
            rec["dibq_useful"] = answers.get(DIBQ_USEFUL_ITEM)
    columns = ["physio_id", "timepoint", "pcs_total", "pabs_pt_biomedical",
               "pabs_pt_biopsychosocial", "dibq_useful"]
    df = pd.DataFrame(list(rows.values()), columns=columns)
    for c in columns[2:]:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


def recruitment(trial: Trial) -> pd.DataFrame:
    """cluster, month (YYYY-MM), n: participants enrolled per cluster and calendar month."""
    qs = (
        Participant.objects.filter(trial=trial)
        .annotate(month=TruncMonth("enrolled_on"))
        .values("clinic__cluster__allocation_order", "month")
        .annotate(n=Count("id"))
        .order_by("clinic__cluster__allocation_order", "month")
    )
    return pd.DataFrame(
        [(r["clinic__cluster__allocation_order"], r["month"].strftime("%Y-%m"), r["n"])
         for r in qs],
        columns=["cluster", "month", "n"],
    )


def run_analysis(run: AnalysisRun) -> AnalysisRun:
    """Write the inputs, run ``manage.py analyse`` into the run's directory, record it."""
    out = runs_dir() / str(run.pk)
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    run.status, run.out_dir = AnalysisRun.RUNNING, str(out)
    run.save(update_fields=["status", "out_dir"])
    trial = run.trial
    options: dict = {"out": str(out / "report")}
    try:
        if run.analysis in ("paired", "pilot"):
            data = data_dir / "physio.csv"
            physio_dataset(trial).to_csv(data, index=False)
            if run.analysis == "pilot":
                rec = data_dir / "recruitment.csv"
                recruitment(trial).to_csv(rec, index=False)
                options["recruitment"] = str(rec)
        else:
            data = data_dir / "patients.csv"
            exports.analysis_dataset(trial).to_csv(data, index=False)
            options["outcome"] = run.outcome or "nrs_back"
        if run.analysis == "cea":
            # Utilisation from the registry import and from the protocol's priced [[imports]].
            imp = registry.current_import(trial)
            table = pd.concat(
                [imports.utilisation(trial), questionnaire_costs.utilisation(trial)],
                ignore_index=True,
            )
            if imp is not None:
                table = pd.concat([registry.utilisation(imp), table], ignore_index=True)
            if table.empty:
                raise CommandError(
                    "Cost-effectiveness needs a registry import or a priced import (costs); "
                    "none is imported yet."
                )
            use, prices = data_dir / "utilisation.csv", data_dir / "prices.json"
            table.to_csv(use, index=False)
            prices.write_text(json.dumps(registry.prices_of(trial)), encoding="utf-8")
            options.update(utilisation=str(use), prices=str(prices))
        buffer = io.StringIO()
        call_command("analyse", run.analysis, data=str(data), stdout=buffer, **options)
        run.output, run.status = buffer.getvalue(), AnalysisRun.DONE
    except CommandError as exc:  # the command's own sentence (e.g. too little data)
        run.status, run.error = AnalysisRun.FAILED, str(exc)
    except Exception as exc:  # shown to the statistician on the run's page
        run.status, run.error = AnalysisRun.FAILED, f"{type(exc).__name__}: {exc}"
    run.finished = timezone.now()
    run.save(update_fields=["status", "output", "error", "finished"])
    return run


def report_path(run: AnalysisRun) -> Path | None:
    path = Path(run.out_dir) / "report" / "report.html"
    return path if run.out_dir and path.is_file() else None
