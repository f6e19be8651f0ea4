"""The analyses of the plan, one table: name, title, the columns each needs and the
function producing its report. ``manage.py analyse`` (files) and the web's analysis runs
(the database) both call :func:`run`, so they cannot disagree.

Options and their defaults (:data:`DEFAULTS`) are the command's: ``outcome``,
``imputations``, ``seed``, ``timepoint``, ``higher_is_better``, ``n_boot``, ``wtp``,
``cluster_random``. Inputs besides the main dataset: ``recruitment`` (pilot: cluster,
month, n), ``utilisation`` and ``prices`` (cea). Data that cannot support an analysis
raise :class:`InsufficientData` with one sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from django.utils.translation import gettext_noop

from . import InsufficientData, sap
from .dataset import PATIENT_COLUMNS, missing_columns, validate_dataset
from .mi import DEFAULT_M
from .paired import HCP_SCORES

DEFAULTS = {
    "outcome": "nrs_back",
    "imputations": DEFAULT_M,
    "seed": 1,
    "timepoint": 3,
    "higher_is_better": False,
    "n_boot": 2000,
    "wtp": 500000,
    "cluster_random": True,
}


@dataclass(frozen=True)
class Report:
    results: dict[str, pd.DataFrame]
    notes: list[str]
    figures: dict[str, str]

    def lines(self) -> list[str]:
        """The report as text: notes, then each table under its title."""
        out = [f"Note: {note}" for note in self.notes]
        for title, table in self.results.items():
            out += [title, table.to_string(index=False)]
        return out


@dataclass(frozen=True)
class Analysis:
    name: str
    title: str
    kind: str  # the dataset it reads: "patient" or "physio"
    columns: Callable[[dict], list[str]]  # required columns, given the options
    produce: Callable[..., Report]  # (data, options, recruitment, utilisation, prices)
    absent: tuple[tuple[str, str], ...] = ()  # (column, the sentence when it is missing)


def require(df: pd.DataFrame, needed: list[str], kind: str = "patient") -> None:
    missing = missing_columns(df, needed)
    if missing:
        raise InsufficientData(f"missing columns: {', '.join(missing)}")
    problems = validate_dataset(df, kind=kind)
    if problems:
        raise InsufficientData("; ".join(problems))


def _higher(o) -> bool | None:
    return True if o["higher_is_better"] else None


def _mixed(df, o, **_inputs):
    return Report(
        *sap.mixed_analyses(df, o["outcome"], o["cluster_random"], higher_is_better=_higher(o)),
        {},
    )


def _mi(df, o, **_inputs):
    return Report(
        *sap.mi_analyses(
            df, o["outcome"], m=o["imputations"], seed=o["seed"], higher_is_better=_higher(o)
        ),
        {},
    )


def _paired(df, o, **_inputs):
    return Report(*sap.paired_analyses(df), {})


def _specialist(df, o, **_inputs):
    return Report(*sap.specialist_analyses(df), {})


def _mcid(df, o, **_inputs):
    return Report(
        *sap.mcid_analyses(
            df, o["outcome"], o["timepoint"], higher_is_better=o["higher_is_better"]
        ),
        {},
    )


def _cea(df, o, utilisation=None, prices=None, **_inputs):
    if utilisation is not None:
        missing = missing_columns(utilisation, ["study_id", "item", "quantity"])
        if missing:
            raise InsufficientData(f"missing columns in utilisation: {', '.join(missing)}")
        if prices is None:
            raise InsufficientData("--utilisation needs --prices (JSON {item: price})")
    try:
        return Report(
            *sap.cea_analyses(
                df, utilisation, prices, o["n_boot"], o["seed"], o["wtp"], m=o["imputations"]
            )
        )
    except KeyError as exc:
        raise InsufficientData(str(exc)) from exc


def _pilot(df, o, recruitment=None, **_inputs):
    if recruitment is None:
        raise InsufficientData("pilot needs --recruitment (CSV with cluster,month,n)")
    missing = missing_columns(recruitment, ["cluster", "month", "n"])
    if missing:
        raise InsufficientData(f"missing columns in recruitment: {', '.join(missing)}")
    return Report(*sap.pilot_analyses(df, recruitment), {})


def _outcome(o):
    return [*PATIENT_COLUMNS, o["outcome"]]


def _cea_columns(o):
    return [*PATIENT_COLUMNS, "eq5d_index", *([] if o.get("with_utilisation") else ["cost"])]


TABLE = [
    Analysis(
        "mixed",
        gettext_noop(
            "Primary multilevel model (clinic, clinic x time, period) and sensitivity model"
        ),
        "patient",
        _outcome,
        _mixed,
    ),
    Analysis(
        "mi",
        gettext_noop(
            "Intention to treat with multiple imputation (m = 20); per-protocol and washout "
            "sensitivity"
        ),
        "patient",
        _outcome,
        _mi,
    ),
    Analysis(
        "paired",
        gettext_noop("Physiotherapists: matched-pairs t-tests of PCS and PABS-PT"),
        "physio",
        lambda o: ["physio_id", "timepoint", *HCP_SCORES],
        _paired,
    ),
    Analysis(
        "specialist",
        gettext_noop("Incidence of specialist care within 12 months (registry)"),
        "patient",
        lambda o: [*PATIENT_COLUMNS, "specialist_care"],
        _specialist,
        absent=(
            (
                "specialist_care",
                "The dataset has no specialist_care column: import the registry data first.",
            ),
        ),
    ),
    Analysis(
        "mcid",
        gettext_noop("Minimal clinically important difference anchored on PGIC"),
        "patient",
        lambda o: [*_outcome(o), "pgic"],
        _mcid,
    ),
    Analysis(
        "cea",
        gettext_noop("Cost-effectiveness (QALY, registry costs, ICER, plane, acceptability curve)"),
        "patient",
        _cea_columns,
        _cea,
    ),
    Analysis(
        "pilot",
        gettext_noop("Internal pilot progression criteria"),
        "physio",
        lambda o: ["physio_id", "timepoint", "dibq_useful"],
        _pilot,
    ),
]
ANALYSES = {a.name: a for a in TABLE}


def run(
    name: str,
    data: pd.DataFrame,
    options: dict | None = None,
    *,
    recruitment: pd.DataFrame | None = None,
    utilisation: pd.DataFrame | None = None,
    prices: dict | None = None,
) -> Report:
    """Check the columns analysis ``name`` needs, then produce its report."""
    analysis = ANALYSES[name]
    o = {**DEFAULTS, **(options or {}), "with_utilisation": utilisation is not None}
    for column, sentence in analysis.absent:
        if column not in data.columns:
            raise InsufficientData(sentence)
    require(data, analysis.columns(o), kind=analysis.kind)
    return analysis.produce(
        data, o, recruitment=recruitment, utilisation=utilisation, prices=prices
    )
