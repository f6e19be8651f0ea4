"""Each seed trial end to end: its shipped protocol file loaded, a participant screened and
enrolled through the real actions, every instrument of every timepoint answered through
the one write path (iterating over the protocol's own lists, so an instrument added to a
protocol file is covered without touching this test), then the analysis dataset and the
wide export built with their codebooks, which must carry the trial's own new columns."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from analysis import imports
from analysis.exports import ANALYSIS_SCORES, analysis_dataset, analysis_vars, build, codebook
from enrolment import randomisation_store
from enrolment.actions.enrol import enrol_participant, record_screening
from enrolment.actions.errors import EnrolmentError
from enrolment.models import Participant, Timepoint
from enrolment.protocol.writing import load_protocol
from questionnaires.instruments import for_trial
from questionnaires.models import Response
from questionnaires.services.saving import save_answers

from .factories import PersonalFactory, PhysiotherapistFactory, UserFactory
from .questionnaires.engine_helpers import valid_answers

pytestmark = pytest.mark.django_db
PROTOCOLS = Path(__file__).resolve().parents[1] / "protocols"

# trial -> (protocol file, enrolment day, enrolment fields, wide columns, analysis columns)
TRIALS = {
    "betterback": (
        "betterback.toml",
        date(2017, 5, 2),
        {},
        ["nrs_back_baseline", "nrs_leg_12m"],
        ["nrs_back", "odi"],
    ),
    "safe": (
        "safe.toml",
        date(2022, 3, 1),
        {"sex": "female"},
        [
            "safe_sociodemographics_sex_baseline",
            "safe_sociodemographics_education_baseline",
            "safe_sociodemographics_cohabitation_baseline",
            "safe_work_work_status_baseline",
            "safe_work_occupation_3m",
            "safe_work_sick_leave_days_3m_12m",
            "safe_work_job_satisfaction_24m",
        ],
        ["sex", "rmdq_total", "eq5d_index", "gpe_gpe", "safe_work_work_status"],
    ),
    "selfback": (
        "selfback.toml",
        date(2019, 4, 1),
        {"sex": "male"},
        ["nrs_back_average_baseline", "nrs_back_worst_6w", "nrs_back_worst_9m"],
        ["sex", "nrs_back", "rmdq_total", "pseq_total", "fabq_fabq_pa", "saltin_grimby_level"],
    ),
    "impact-lbp": (
        "impact-lbp.toml",
        date(2022, 3, 1),
        {"first_contact_clinician": "chiropractor"},
        ["promis_pi_t_score_baseline", "promis_pi_se_3m", "promis_pf_t_score_3m"],
        ["first_contact_clinician", "promis_pi_t_score", "promis_pf_se", "nrs_back"],
    ),
}


def _load(filename):
    trial, _ = load_protocol(PROTOCOLS / filename)
    if not trial.is_cluster_design:
        # An individually randomised trial enrols from its concealed list.
        randomisation_store.generate(trial, UserFactory(), seed=17)
    return trial


def _screen_and_enrol(trial, clinic, day, fields):
    user = UserFactory()
    criteria = trial.eligibility.all()
    answers = {c.code: c.kind == "inclusion" for c in criteria if not c.rule}
    scores = {
        f"{c.rule['instrument']}_{c.rule['score']}": c.rule.get("min", 0)
        for c in criteria
        if "instrument" in c.rule
    }
    screening = record_screening(
        trial=trial, clinic=clinic, screened_on=day, user=user, age=40, answers=answers,
        scores=scores,
    )  # fmt: skip
    return enrol_participant(
        clinic=clinic,
        enrolled_on=day,
        personal=PersonalFactory(preferred_language=trial.default_language),
        consent={"consented_on": day, "form_version": trial.consent_form_version or "1.0"},
        user=user,
        screening=screening,
        **fields,
    )


def _value(column):
    if column["type"] == "date":
        return "2022-06-01"
    if column["type"] == "boolean":
        return "1"
    return str(int(column.get("min") or 0) + 1)


def _import_every_declaration(trial, participant) -> list[str]:
    """Import one valid row for the participant under each of the protocol's [[imports]]
    (week 1 for weekly ones); the analysis dataset columns they should give."""
    columns = []
    for spec in trial.imports:
        weekly = spec["per"] == "participant_week"
        header = ["study_id", *(["week"] if weekly else []), *(c["name"] for c in spec["columns"])]
        row = [participant.study_id, *(["1"] if weekly else []), *map(_value, spec["columns"])]
        content = (",".join(header) + "\n" + ",".join(row) + "\n").encode()
        imp = imports.import_file(trial, spec["code"], f"{spec['code']}.csv", content)
        assert imp.rows == 1
        columns += [name for name, _col in imports.column_names(spec)]
    return columns


def _answer_everything(trial, participant) -> int:
    physio = PhysiotherapistFactory(clinic=participant.clinic)
    n = 0
    for tp in trial.timepoints.filter(removed_in=None):
        who = (
            {"physiotherapist": physio}
            if tp.respondent == Timepoint.PHYSIOTHERAPIST
            else {"participant": participant}
        )
        for code in tp.instruments:
            instrument = for_trial(trial, code)
            save_answers(
                instrument=instrument,
                timepoint=tp,
                answers=valid_answers(instrument),
                complete=True,
                mode=Response.STAFF_CLINIC,
                language=trial.default_language,
                **who,
            )
            n += 1
    return n


@pytest.mark.parametrize("code", TRIALS)
def test_seed_trial_end_to_end(code):
    filename, day, fields, wide_columns, analysis_columns = TRIALS[code]
    trial = _load(filename)
    clinic = next(c for cl in trial.clusters.order_by("allocation_order") for c in cl.clinics.all())
    participant = _screen_and_enrol(trial, clinic, day, fields)
    for name, value in fields.items():
        assert getattr(participant, name) == value

    answered = _answer_everything(trial, participant)
    expected = sum(len(t.instruments) for t in trial.timepoints.filter(removed_in=None))
    assert answered == expected
    stored = Response.objects.filter(completed_at__isnull=False)
    assert stored.count() == expected
    # Each response is on the version the trial asks, scored.
    for r in stored:
        assert r.version == for_trial(trial, r.instrument).version

    wide = build(trial, "wide")
    names = [v.name for v in wide.vars]
    rows = list(wide.rows())
    row = dict(zip(names, next(r for r in rows if r[0] == participant.study_id), strict=True))
    for column in wide_columns:
        assert column in names, column
        assert row[column] is not None, column
    wide_book = codebook(wide.vars)
    assert set(wide_columns) <= set(wide_book["name"])

    imported = _import_every_declaration(trial, participant)
    df = analysis_dataset(trial)
    book = codebook(analysis_vars(trial))
    for column in analysis_columns + imported:
        assert column in df.columns, column
        assert column in set(book["name"]), column
        assert df[column].notna().any(), column
    # BetterBack's fixed score columns only where the trial asks their instrument.
    asked = {
        c for t in trial.timepoints.filter(respondent=Timepoint.PATIENT) for c in t.instruments
    }
    for name, (codes, _score) in ANALYSIS_SCORES.items():
        assert (name in df.columns) == bool(asked & set(codes)), name


def test_betterback_keeps_nrs_version_1():
    trial, _ = load_protocol(PROTOCOLS / "betterback.toml")
    names = [v.name for v in build(trial, "wide").vars]
    assert "nrs_back_baseline" in names
    assert not [n for n in names if n.startswith("nrs_back_average")]


def test_impact_first_contact_only_at_intervention_clinics():
    trial, _ = load_protocol(PROTOCOLS / "impact-lbp.toml")
    psp = trial.clusters.get(code="A").clinics.first()  # randomised to the PSP model
    usual = trial.clusters.get(code="B").clinics.first()
    day = date(2022, 3, 1)
    with pytest.raises(EnrolmentError, match="chooses the first-contact clinician"):
        _screen_and_enrol(trial, psp, day, {})
    with pytest.raises(EnrolmentError, match="only at intervention clinics"):
        _screen_and_enrol(trial, usual, day, {"first_contact_clinician": "chiropractor"})
    control = _screen_and_enrol(trial, usual, day, {})
    assert control.first_contact_clinician == ""
    # A blinded export leaves it out: it would reveal the condition.
    assert "first_contact_clinician" not in analysis_dataset(trial, blinded=True).columns
    assert Participant.objects.filter(trial=trial).count() == 1


def test_sex_is_required_where_the_protocol_asks_it():
    trial = _load("safe.toml")
    clinic = trial.clusters.get().clinics.get()
    with pytest.raises(EnrolmentError, match="sex"):
        _screen_and_enrol(trial, clinic, date(2022, 3, 1), {})


def test_enrol_form_asks_first_contact_only_at_intervention_clinics():
    from enrolment.screening_forms import EnrolForm

    trial = _load("impact-lbp.toml")
    forms = {}
    for cluster in ("A", "B"):
        clinic = trial.clusters.get(code=cluster).clinics.first()
        screening = record_screening(
            trial=trial, clinic=clinic, screened_on=date(2022, 3, 1), user=UserFactory(),
            age=40, answers={c.code: c.kind == "inclusion" for c in trial.eligibility.all()},
            scores={},
        )  # fmt: skip
        forms[cluster] = EnrolForm(trial=trial, screening=screening)
    assert "first_contact_clinician" in forms["A"].fields
    assert "first_contact_clinician" not in forms["B"].fields
    assert "sex" not in forms["A"].fields  # IMPACt's protocol does not ask it
    safe = _load("safe.toml")
    assert "sex" in EnrolForm(trial=safe).fields


@pytest.mark.parametrize("missing", ["smartphone", "email"])
def test_selfback_needs_a_smartphone_and_email(missing):
    trial = _load("selfback.toml")
    criteria = trial.eligibility.all()
    answers = {c.code: c.code != missing for c in criteria if not c.rule}
    record = record_screening(
        trial=trial, clinic=trial.clusters.first().clinics.first(), screened_on=date(2019, 4, 1),
        user=UserFactory(), age=40, answers=answers, scores={"rmdq_total": 8},
    )  # fmt: skip
    assert record.unmet_criteria == [missing]
    reason = trial.eligibility.get(code=missing).text
    assert ("smartphone" if missing == "smartphone" else "email") in reason
