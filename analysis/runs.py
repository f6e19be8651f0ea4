"""Run the analysis plan on a trial's current data, as ``manage.py analyse`` does.

The inputs the command reads from files (analysis dataset, physiotherapist dataset,
registry utilisation, prices, recruitment) are built from the database and handed to the
same function of the plan's table of analyses (:func:`analysis.plan.analyses.run`), so the
browser and the command line cannot disagree. The run's product is its report directory.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy

from enrolment import tags
from enrolment.models import Participant, Timepoint, Trial
from questionnaires.models import Response

from . import exports, imports, questionnaire_costs, registry
from .exports.dataset import score_columns
from .models import AnalysisRun
from .plan import InsufficientData, analyses, report
from .plan.dataset import reasons_as_missing

ANALYSES = {a.name: gettext_lazy(a.title) for a in analyses.TABLE}  # in the user's language
OUTCOMES = ["nrs_back", "odi", "eq5d_index", "bipq_total"]
# Protocol tags of the physiotherapist questionnaires' timepoints -> analysis codes.
PHYSIO_TIMEPOINTS = {
    "workshop-before": "before",
    "workshop-after": "after",
    "workshop-3m": "3m",
    "workshop-12m": "12m",
}


def outcomes_for(trial: Trial) -> list[str]:
    """The plan's outcomes that the trial's analysis dataset carries."""
    carried = {var.name for var, _codes, _score in score_columns(trial)}
    return [o for o in OUTCOMES if o in carried]


def analyses_for(trial: Trial) -> list[str]:
    """The plan's analyses the trial's data can feed: those of physiotherapists only where
    its protocol tags their questionnaires' timepoints."""
    physio = bool(physio_codes(trial)[0])
    return [a.name for a in analyses.TABLE if a.kind != "physio" or physio]


def physio_codes(trial: Trial) -> tuple[dict[str, str], str | None]:
    """(physiotherapist timepoint code -> analysis code, the DIBQ item asking whether the
    model of care will be useful): read from the protocol file's tags."""
    return tags.codes_for(trial, PHYSIO_TIMEPOINTS), tags.item(trial, "dibq", "model-useful")


def runs_dir() -> Path:
    return Path(settings.VAR_DIR) / "analysis"


def physio_dataset(trial: Trial) -> pd.DataFrame:
    """Physiotherapist dataset of analysis.plan.dataset (one row per physio and time)."""
    timepoints, useful_item = physio_codes(trial)
    rows: dict[tuple[str, str], dict] = {}
    qs = Response.objects.filter(
        physiotherapist__clinic__cluster__trial=trial,
        timepoint__respondent=Timepoint.PHYSIOTHERAPIST,
        entry=Response.FINAL,
        completed_at__isnull=False,
    ).values_list("physiotherapist__study_code", "timepoint__code", "instrument", "scores",
                  "answers")
    for physio, tp, code, scores, answers in qs.iterator(chunk_size=exports.CHUNK):
        if tp not in timepoints:
            continue
        rec = rows.setdefault((physio, tp), {"physio_id": physio,
                                             "timepoint": timepoints[tp]})
        if code == "pcs":
            rec["pcs_total"] = scores.get("total")
        elif code == "pabs_pt":
            rec["pabs_pt_biomedical"] = scores.get("biomedical")
            rec["pabs_pt_biopsychosocial"] = scores.get("biopsychosocial")
        elif code == "dibq" and useful_item:
            rec["dibq_useful"] = answers.get(useful_item)
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


def _inputs(run: AnalysisRun) -> tuple[pd.DataFrame, dict]:
    """(dataset, extra inputs) of the run's analysis, from the database."""
    trial, name = run.trial, run.analysis
    if analyses.ANALYSES[name].kind == "physio":
        data = reasons_as_missing(physio_dataset(trial))
        extra = {"recruitment": recruitment(trial)} if name == "pilot" else {}
        return data, extra
    data = reasons_as_missing(exports.analysis_dataset(trial))
    if name != "cea":
        return data, {}
    # Utilisation from the registry import and from the protocol's priced [[imports]] and
    # questionnaire items.
    imp = registry.current_import(trial)
    table = pd.concat(
        [imports.utilisation(trial), questionnaire_costs.utilisation(trial)], ignore_index=True
    )
    if imp is not None:
        table = pd.concat([registry.utilisation(imp), table], ignore_index=True)
    if table.empty:
        raise InsufficientData(
            "Cost-effectiveness needs a registry import or a priced import (costs); "
            "none is imported yet."
        )
    return data, {"utilisation": table, "prices": registry.prices_of(trial)}


def run_analysis(run: AnalysisRun) -> AnalysisRun:
    """Run the analysis on the trial's data, write its report into the run's directory
    and record it (the text is what ``manage.py analyse`` prints)."""
    out = runs_dir() / str(run.pk)
    out.mkdir(parents=True, exist_ok=True)
    run.status, run.out_dir = AnalysisRun.RUNNING, str(out)
    run.save(update_fields=["status", "out_dir"])
    try:
        data, extra = _inputs(run)
        options = {"outcome": run.outcome or (outcomes_for(run.trial) or ["nrs_back"])[0]}
        result = analyses.run(run.analysis, data, options, **extra)
        written = report.write_outputs(
            result.results,
            out / "report",
            f"BetterBack analysis: {run.analysis}",
            result.figures,
            result.notes,
        )
        lines = [*result.lines(), f"written: {written['html']}"]
        run.output, run.status = "".join(f"{line}\n" for line in lines), AnalysisRun.DONE
    except InsufficientData as exc:  # the plan's own sentence (e.g. too little data)
        run.status, run.error = AnalysisRun.FAILED, str(exc)
    except Exception as exc:  # shown to the statistician on the run's page
        run.status, run.error = AnalysisRun.FAILED, f"{type(exc).__name__}: {exc}"
    run.finished = timezone.now()
    run.save(update_fields=["status", "output", "error", "finished"])
    return run


def report_path(run: AnalysisRun) -> Path | None:
    path = Path(run.out_dir) / "report" / "report.html"
    return path if run.out_dir and path.is_file() else None
