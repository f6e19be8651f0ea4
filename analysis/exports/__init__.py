"""Pseudonymised exports of a trial's participant data, with a codebook.

Shapes
------
``long``   one row per participant, timepoint and variable (score or item):
           the participant columns, then ``timepoint``, ``days_from_baseline``,
           ``entry_mode``, ``instrument``, ``version``, ``variable``, ``value`` (numeric)
           and ``value_text`` (text values: EQ-5D profiles, dates, multiple choices).
``wide``   one row per participant: the participant columns, then per timepoint
           ``days_from_baseline_<tp>``, ``entry_mode_<tp>`` and ``<instrument>_<var>_<tp>``.
``analysis`` the analysis dataset of :mod:`analysis.plan.dataset` (one row per participant
           and patient timepoint at 0/3/6/12 months), see :func:`analysis_dataset`.

Column names (stable, documented in every codebook)
---------------------------------------------------
* variables: ``<instrument>_<score>`` at score level (``odi_odi``, ``nrs_back``,
  ``eq5d3l_index``), ``<instrument>_<item>`` at item level (``odi_q3``). Item level holds
  items only (an item and a score may share a name, e.g. ``nrs_back``). Free-text items are
  never exported: they may carry names. Multiple-choice items are text "1;3".
* ``<tp>`` is the timepoint code of the protocol file with ``-`` as ``_`` (``baseline``,
  ``3m``, ``crpe_final``): wide names are ``odi_odi_3m``.
* Stata allows 32 characters: in ``.dta`` files a longer name becomes its first 27
  characters, ``_`` and 4 hex digits of its SHA-1 (:func:`stata_name`); the codebook written
  with a ``.dta`` export lists those names.

Participant columns: study_id, cluster (allocation order 1, 2, ..., labelled with the
cluster's name and code), clinic (code), condition (arm code, or the
blinding code A/B), enrolment_date, crossover_washout (1/0), sbst_risk_group (baseline
STarT Back risk group), status, withdrawn (date), died (date), age_at_enrolment (whole
years; the date of birth is read inside the export and never written), protocol_version
(the number of the protocol version the participant was enrolled under; the codebook lists
the versions).

Only final (entry 0), completed responses are exported, rows in participant, timepoint,
instrument, week and response id order. On PostgreSQL a CSV file is shaped in SQL and
written by ``COPY ... TO STDOUT`` (:mod:`.pg`); elsewhere, and for Parquet and the API,
rows are built in Python from ``.iterator(chunk_size=...)`` querysets (:mod:`.stream`):
the same bytes either way, memory flat with the number of participants. ``.sav`` and
``.dta`` are built in memory (pyreadstat writes a whole frame).

The package: :mod:`.columns` (codebook entries and participant columns), :mod:`.stream`
(long and wide rows in Python), :mod:`.pg` (the same in SQL), :mod:`.dataset` (the
analysis shape), :mod:`.writers` (files, codebook, the export log).
"""

from ..varnames import DATE, NUMERIC, STRING, Export, Var, stata_name, tp_suffix  # noqa: F401
from .columns import (  # noqa: F401
    MODE_LABELS,
    TEXT_SCORES,
    Column,
    baseline_risk,
    baseline_timepoint,
    blinding_codes,
    cluster_labels,
    instrument_vars,
    participant_columns,
    participant_timepoints,
    participant_vars,
    weekly_timepoints,
)
from .dataset import (  # noqa: F401
    ANALYSIS_SCORES,
    SPECIALIST_ITEMS,
    analysis_dataset,
    analysis_export,
    analysis_timepoints,
    analysis_vars,
)
from .stream import CHUNK, long_export, participant_rows, wide_export  # noqa: F401
from .writers import (  # noqa: F401
    CODEBOOK_COLUMNS,
    FORMATS,
    LEVELS,
    SHAPES,
    _csv_cell,
    build,
    codebook,
    for_format,
    write_codebook,
    write_csv,
    write_export,
    write_parquet,
    write_readstat,
    write_syntax,
)
