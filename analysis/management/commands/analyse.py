"""Run one analysis of the statistical analysis plan on an exported analysis dataset.

    manage.py analyse mixed --data patients.csv --outcome nrs_back --out var/analysis
    manage.py analyse mi --data patients.csv --imputations 20
    manage.py analyse paired --data physio.csv
    manage.py analyse specialist --data patients.csv
    manage.py analyse mcid --data patients.csv --outcome odi --timepoint 3
    manage.py analyse cea --data patients.csv --utilisation use.csv --prices prices.json
    manage.py analyse pilot --data physio.csv --recruitment recruitment.csv

The dataset format is documented in analysis/plan/dataset.py. CSV or Parquet. What the
report shows is assembled in analysis/plan/sap.py; data too thin for an analysis ends the
command with one sentence saying what is missing.
"""

import json
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from analysis.plan import InsufficientData, report, sap
from analysis.plan.dataset import missing_columns, reasons_as_missing, validate_dataset
from analysis.plan.mi import DEFAULT_M
from analysis.plan.paired import HCP_SCORES

ANALYSES = ["mixed", "mi", "paired", "specialist", "mcid", "cea", "pilot"]


def _read(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise CommandError(f"{path}: no such file")
    try:
        if p.suffix.lower() == ".parquet":
            return reasons_as_missing(pd.read_parquet(p))
        return reasons_as_missing(pd.read_csv(p))
    except Exception as exc:  # unreadable file: report, do not crash
        raise CommandError(f"{path}: cannot read ({exc})") from exc


class Command(BaseCommand):
    help = "Run an analysis of the statistical analysis plan on an analysis dataset."

    def add_arguments(self, parser):
        parser.add_argument("analysis", choices=ANALYSES)
        parser.add_argument("--data", required=True, help="analysis dataset (CSV or Parquet)")
        parser.add_argument("--outcome", default="nrs_back")
        parser.add_argument("--imputations", type=int, default=DEFAULT_M)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--timepoint", type=int, default=3, help="mcid follow-up (months)")
        parser.add_argument(
            "--higher-is-better",
            action="store_true",
            help="mcid, mixed, mi: outcome improves upwards (e.g. eq5d_index)",
        )
        parser.add_argument("--utilisation", help="cea: utilisation table study_id,item,quantity")
        parser.add_argument("--prices", help="cea: JSON file {item: unit price}")
        parser.add_argument("--n-boot", type=int, default=2000)
        parser.add_argument(
            "--wtp", type=float, default=500000, help="cea: willingness to pay line on the plane"
        )
        parser.add_argument("--recruitment", help="pilot: CSV cluster,month,n")
        parser.add_argument(
            "--no-cluster-random",
            action="store_true",
            help="mixed: fit the sensitivity (previous) model with participant random "
            "intercepts and fixed clusters",
        )
        parser.add_argument("--out", help="directory for CSV, JSON and HTML report")

    def _require(self, df, needed, kind="patient"):
        missing = missing_columns(df, needed)
        if missing:
            raise CommandError(f"missing columns: {', '.join(missing)}")
        problems = validate_dataset(df, kind=kind)
        if problems:
            raise CommandError("; ".join(problems))

    def handle(self, *args, **o):
        try:
            self._handle(o)
        except InsufficientData as exc:
            raise CommandError(str(exc)) from exc

    def _handle(self, o):
        df = _read(o["data"])
        name, outcome = o["analysis"], o["outcome"]
        higher = True if o["higher_is_better"] else None
        patient = [
            "study_id",
            "cluster",
            "clinic",
            "condition",
            "timepoint_months",
            "crossover_washout",
            "sbst_risk_group",
        ]
        figures = {}
        if name == "mixed":
            self._require(df, [*patient, outcome])
            results, notes = sap.mixed_analyses(
                df, outcome, not o["no_cluster_random"], higher_is_better=higher
            )
        elif name == "mi":
            self._require(df, [*patient, outcome])
            results, notes = sap.mi_analyses(
                df, outcome, m=o["imputations"], seed=o["seed"], higher_is_better=higher
            )
        elif name == "paired":
            self._require(df, ["physio_id", "timepoint", *HCP_SCORES], kind="physio")
            results, notes = sap.paired_analyses(df)
        elif name == "specialist":
            if "specialist_care" not in df.columns:
                raise CommandError(
                    "The dataset has no specialist_care column: import the registry data first."
                )
            self._require(df, [*patient, "specialist_care"])
            results, notes = sap.specialist_analyses(df)
        elif name == "mcid":
            self._require(df, [*patient, outcome, "pgic"])
            results, notes = sap.mcid_analyses(
                df, outcome, o["timepoint"], higher_is_better=o["higher_is_better"]
            )
        elif name == "cea":
            results, notes, figures = self._cea(df, o, patient)
        else:
            self._require(df, ["physio_id", "timepoint", "dibq_useful"], kind="physio")
            if not o["recruitment"]:
                raise CommandError("pilot needs --recruitment (CSV with cluster,month,n)")
            rec = _read(o["recruitment"])
            missing = missing_columns(rec, ["cluster", "month", "n"])
            if missing:
                raise CommandError(f"missing columns in recruitment: {', '.join(missing)}")
            results, notes = sap.pilot_analyses(df, rec)
        for note in notes:
            self.stdout.write(f"Note: {note}")
        for title, table in results.items():
            self.stdout.write(title)
            self.stdout.write(table.to_string(index=False))
        if o["out"]:
            written = report.write_outputs(
                results, o["out"], f"BetterBack analysis: {name}", figures, notes
            )
            self.stdout.write(f"written: {written['html']}")

    def _cea(self, df, o, patient):
        needed = [*patient, "eq5d_index"]
        if not o["utilisation"]:
            needed.append("cost")
        self._require(df, needed)
        use = prices = None
        if o["utilisation"]:
            use = _read(o["utilisation"])
            missing = missing_columns(use, ["study_id", "item", "quantity"])
            if missing:
                raise CommandError(f"missing columns in utilisation: {', '.join(missing)}")
            if not o["prices"]:
                raise CommandError("--utilisation needs --prices (JSON {item: price})")
            try:
                prices = json.loads(Path(o["prices"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"{o['prices']}: {exc}") from exc
        try:
            return sap.cea_analyses(
                df, use, prices, o["n_boot"], o["seed"], o["wtp"], m=o["imputations"]
            )
        except KeyError as exc:
            raise CommandError(str(exc)) from exc
