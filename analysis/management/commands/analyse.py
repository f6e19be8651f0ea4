"""Run one analysis of the statistical analysis plan on an exported analysis dataset.

    manage.py analyse mixed --data patients.csv --outcome nrs_back --out var/analysis
    manage.py analyse mi --data patients.csv --imputations 20
    manage.py analyse paired --data physio.csv
    manage.py analyse specialist --data patients.csv
    manage.py analyse mcid --data patients.csv --outcome odi --timepoint 3
    manage.py analyse cea --data patients.csv --utilisation use.csv --prices prices.json
    manage.py analyse pilot --data physio.csv --recruitment recruitment.csv

The dataset format is documented in analysis/plan/dataset.py. CSV or Parquet. The analyses,
the columns each needs and the function producing it are one table in
analysis/plan/analyses.py, which the web's analysis runs call too; what the report shows is
assembled in analysis/plan/sap.py. Data too thin for an analysis ends the
command with one sentence saying what is missing.
"""

import json
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from analysis.plan import InsufficientData, report
from analysis.plan.analyses import ANALYSES, DEFAULTS, run
from analysis.plan.dataset import reasons_as_missing


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
        parser.add_argument("analysis", choices=list(ANALYSES))
        parser.add_argument("--data", required=True, help="analysis dataset (CSV or Parquet)")
        parser.add_argument("--outcome", default=DEFAULTS["outcome"])
        parser.add_argument("--imputations", type=int, default=DEFAULTS["imputations"])
        parser.add_argument("--seed", type=int, default=DEFAULTS["seed"])
        parser.add_argument(
            "--timepoint", type=int, default=DEFAULTS["timepoint"], help="mcid follow-up (months)"
        )
        parser.add_argument(
            "--higher-is-better",
            action="store_true",
            help="mcid, mixed, mi: outcome improves upwards (e.g. eq5d_index)",
        )
        parser.add_argument("--utilisation", help="cea: utilisation table study_id,item,quantity")
        parser.add_argument("--prices", help="cea: JSON file {item: unit price}")
        parser.add_argument("--n-boot", type=int, default=DEFAULTS["n_boot"])
        parser.add_argument(
            "--wtp",
            type=float,
            default=DEFAULTS["wtp"],
            help="cea: willingness to pay line on the plane",
        )
        parser.add_argument("--recruitment", help="pilot: CSV cluster,month,n")
        parser.add_argument(
            "--no-cluster-random",
            action="store_true",
            help="mixed: fit the sensitivity (previous) model with participant random "
            "intercepts and fixed clusters",
        )
        parser.add_argument("--out", help="directory for CSV, JSON and HTML report")

    def handle(self, *args, **o):
        df = _read(o["data"])
        name = o["analysis"]
        options = {key: o[key] for key in DEFAULTS if key in o}
        options["cluster_random"] = not o["no_cluster_random"]
        inputs = {}
        if name == "cea" and o["utilisation"]:
            inputs["utilisation"] = _read(o["utilisation"])
            if o["prices"]:
                try:
                    inputs["prices"] = json.loads(Path(o["prices"]).read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise CommandError(f"{o['prices']}: {exc}") from exc
        if name == "pilot" and o["recruitment"]:
            inputs["recruitment"] = _read(o["recruitment"])
        try:
            result = run(name, df, options, **inputs)
        except InsufficientData as exc:
            raise CommandError(str(exc)) from exc
        for line in result.lines():
            self.stdout.write(line)
        if o["out"]:
            written = report.write_outputs(
                result.results,
                o["out"],
                f"BetterBack analysis: {name}",
                result.figures,
                result.notes,
            )
            self.stdout.write(f"written: {written['html']}")
