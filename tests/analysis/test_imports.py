"""Imports declared by protocol files ([[imports]]): the columns, types and limits come
from the file; every row is checked with a line-numbered reason; a new import replaces
the current one with history; the analysis dataset, its codebook and the CEA utilisation
carry the imported columns."""

from __future__ import annotations

from datetime import date

import pytest

from analysis import imports
from analysis.exports import analysis_dataset, analysis_vars
from analysis.import_models import DataImport
from analysis.registry import RegistryError
from enrolment import randomisation_store
from enrolment.protocol.reading import read_protocol
from enrolment.protocol.sections import ProtocolError
from enrolment.protocol.writing import load_protocol
from tests.conftest import use_betterback_built_once

from ..conftest import PROTOCOLS
from ..factories import UserFactory, enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def _trial(name):
    trial, _ = load_protocol(PROTOCOLS / name)
    if not trial.is_cluster_design:
        randomisation_store.generate(trial, UserFactory(), seed=3)
    return trial


def _csv(*lines) -> bytes:
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def safe():
    trial = _trial("safe.toml")
    clinic = trial.clusters.get().clinics.get()
    people = [enrol(clinic, enrolled_on=date(2022, 3, 1)) for _ in range(2)]
    return trial, people


def test_row_level_errors_name_the_line_and_the_reason(safe):
    trial, (a, _b) = safe
    content = _csv(
        "study_id,sickness_benefit_weeks,gp_contacts,physiotherapy_contacts",
        f"{a.study_id},2,3,4",
        "SAFE-NOPE-9,1,1,1",  # unknown study ID
        f"{a.study_id},1,1,1",  # the same participant twice
        f"{a.study_id},x,1.5,99999",  # bad types and out of range
    )
    with pytest.raises(RegistryError) as caught:
        imports.import_file(trial, "dk_registries", "extract.csv", content)
    errors = caught.value.errors
    assert (3, "SAFE-NOPE-9 is not a participant of safe") in errors
    assert (4, f"{a.study_id} already on line 2") in errors
    assert (5, "sickness_benefit_weeks: 'x' is not a whole number") in errors
    assert (5, "gp_contacts: '1.5' is not a whole number") in errors
    assert (5, "physiotherapy_contacts: '99999' is outside 0..366") in errors
    assert not DataImport.objects.exists()  # nothing written from a file with errors


def test_missing_columns_come_from_the_declaration(safe):
    trial, (a, _b) = safe
    with pytest.raises(RegistryError) as caught:
        imports.import_file(trial, "dk_registries", "x.csv", _csv("study_id,gp_contacts", "A,1"))
    assert caught.value.errors == [
        (1, "missing columns: sickness_benefit_weeks, physiotherapy_contacts")
    ]
    with pytest.raises(KeyError, match="declares no import 'app_usage'"):
        imports.import_file(trial, "app_usage", "x.csv", b"study_id\n")


def test_import_replaces_with_history_exports_and_costs(safe):
    trial, (a, b) = safe
    user = UserFactory()
    header = "study_id,sickness_benefit_weeks,gp_contacts,physiotherapy_contacts"
    first = imports.import_file(
        trial, "dk_registries", "v1.csv", _csv(header, f"{a.study_id},1,1,1")
    )
    second = imports.import_file(
        trial, "dk_registries", "v2.csv", _csv(header, f"{a.study_id},2,3,4"), user=user
    )  # fmt: skip
    first.refresh_from_db()
    assert not first.active and first.replaced_by == second and second.active
    assert second.uploaded_by == user and len(second.sha256) == 64
    assert first.history.count() >= 2  # created, then replaced: audited

    df = analysis_dataset(trial)
    mine = df[df.study_id == a.study_id]
    assert set(mine["dk_registries_gp_contacts"]) == {3}
    assert df[df.study_id == b.study_id]["dk_registries_gp_contacts"].isna().all()
    book = {v.name: v for v in analysis_vars(trial)}
    var = book["dk_registries_sickness_benefit_weeks"]
    assert var.allowed == "0..53" and "sickness_benefit_week" in var.rule

    # Priced columns feed the CEA utilisation, priced by the protocol's [prices].
    use = imports.utilisation(trial)
    assert sorted(use.itertuples(index=False)) == sorted(
        [
            (a.study_id, "sickness_benefit_week", 2),
            (a.study_id, "gp_contact", 3),
            (a.study_id, "physiotherapy_contact", 4),
        ]
    )
    assert imports.costs(trial)[a.pk] == 2 * 4550.0 + 3 * 150.0 + 4 * 300.0


def test_weekly_import_checks_weeks_and_sums_them():
    trial = _trial("selfback.toml")
    p = enrol(trial.clusters.get(code="DK").clinics.get(), enrolled_on=date(2019, 4, 1))
    header = "study_id,week,days_active,exercises_completed,education_items_read,step_goal_met"
    with pytest.raises(RegistryError) as caught:
        imports.import_file(
            trial, "app_usage", "u.csv",
            _csv(header, f"{p.study_id},1,8,0,0,", f"{p.study_id},0,1,1,1,2",
                 f"{p.study_id},2,1,1,1,1", f"{p.study_id},2,1,1,1,1"),
        )  # fmt: skip
    assert caught.value.errors == [
        (2, "days_active: '8' is outside 0..7"),
        (3, "week: '0' is not a week 1-52"),
        (3, "step_goal_met: '2' is not 0 or 1"),
        (5, f"{p.study_id} week 2 already on line 4"),
    ]
    imports.import_file(
        trial, "app_usage", "u.csv",
        _csv(header, f"{p.study_id},1,3,10,2,", f"{p.study_id},2,5,20,1,1"),
    )  # fmt: skip
    row = analysis_dataset(trial).iloc[0]
    assert row["app_usage_weeks"] == 2
    assert row["app_usage_days_active_total"] == 8
    assert row["app_usage_exercises_completed_total"] == 30
    assert row["app_usage_step_goal_met_total"] == 1


def test_a_price_that_is_not_in_the_price_table_is_refused(tmp_path):
    text = (PROTOCOLS / "safe.toml").read_text(encoding="utf-8")
    bad = tmp_path / "safe.toml"
    bad.write_text(text.replace('price = "gp_contact"', 'price = "gp_visit"'), encoding="utf-8")
    with pytest.raises(ProtocolError, match="priced by 'gp_visit'"):
        read_protocol(bad)


def test_betterback_prices_the_cost_questions_patients_answer(clinic_west):
    from analysis import questionnaire_costs
    from questionnaires.instruments import for_trial
    from questionnaires.models import Response
    from questionnaires.services.saving import save_answers

    p = enrol(clinic_west)
    trial = p.trial
    assert trial.prices["questionnaire"]["bb_costs.absent_days"] == "absence_day"
    costs = for_trial(trial, "bb_costs")
    for tp, days in (("3m", 4), ("6m", 6)):
        save_answers(
            instrument=costs,
            timepoint=trial.timepoints.get(code=tp),
            answers={"medication_days": days, "absent_days": 1, "reduced_productivity_days": 2},
            complete=True,
            mode=Response.STAFF_CLINIC,
            participant=p,
        )
    use = questionnaire_costs.utilisation(trial)
    assert sorted(use.itertuples(index=False)) == [
        (p.study_id, "absence_day", 2),
        (p.study_id, "medication_day", 10),
        (p.study_id, "reduced_productivity_day", 4),
    ]
    # Every priced item has a price: the CEA refuses an unpriced one.
    assert set(use["item"]) <= set(trial.prices["items"])


def test_a_priced_answer_must_be_a_number_item(tmp_path):
    text = (PROTOCOLS / "betterback.toml").read_text(encoding="utf-8")
    bad = tmp_path / "betterback.toml"
    bad.write_text(text.replace('"bb_costs.absent_days"', '"odi.q1"'), encoding="utf-8")
    with pytest.raises(ProtocolError, match="'odi.q1' is not a number item"):
        read_protocol(bad)
