"""Registry uploads: every row validated, errors by line, nothing written unless the whole
file is valid, a new upload replaces the old one (audited), costs from the protocol prices."""

import io
from pathlib import Path

import pandas as pd
import pytest
from django.urls import reverse

from analysis import exports, registry
from analysis.models import RegistryImport, RegistryRecord, RegistryUpload
from analysis.tasks import registry_upload_task
from tests.analysis.exportdata import make_trial_data
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
HEADER = "study_id," + ",".join(registry.ITEMS)


@pytest.fixture
def data(betterback):
    return make_trial_data(betterback, per_clinic=1)


def _csv(rows, header=HEADER):
    return ("\n".join([header, *rows]) + "\n").encode()


def test_invalid_file_lists_errors_by_line_and_writes_nothing(betterback, data, data_manager):
    content = _csv([
        f"{data[0].study_id},2,0,0,0,0,10",
        "BB-X-9999,1,0,0,0,0,0",
        f"{data[1].study_id},two,0,0,0,0,400",
        f"{data[0].study_id},1,0,0,0,0,0",
    ])
    with pytest.raises(registry.RegistryError) as exc:
        registry.import_file(betterback, "extract.csv", content, data_manager)
    assert exc.value.errors == [
        (3, "BB-X-9999 is not a participant of betterback"),
        (4, "lbp_visit_primary_care: 'two' is not a whole number 0-10000"),
        (4, "sick_leave_day: '400' is not a whole number 0-366"),
        (5, f"{data[0].study_id} already on line 2"),
    ]
    assert not RegistryImport.objects.exists() and not RegistryRecord.objects.exists()


def test_missing_columns_are_reported_on_the_header_line(betterback, data):
    with pytest.raises(registry.RegistryError) as exc:
        registry.import_file(
            betterback, "x.csv", _csv([], header="study_id,lbp_visit_primary_care")
        )
    assert exc.value.errors[0][0] == 1 and "missing columns" in exc.value.errors[0][1]


def test_match_on_national_id_and_replacement_is_audited(betterback, data, data_manager):
    ids = [p.personal_details.national_id for p in data]
    header = HEADER.replace("study_id", "national_id")
    first = registry.import_file(
        betterback, "v1.csv", _csv([f"{i},1,0,0,0,0,0" for i in ids], header), data_manager
    )
    assert first.matched_on == "national_id" and first.rows == len(data)
    second = registry.import_file(
        betterback, "v2.csv", _csv([f"{p.study_id},2,1,0,1,0,5" for p in data]), data_manager,
        note="corrected visits",
    )
    first.refresh_from_db()
    assert (first.active, first.replaced_by, first.replaced_at is not None) == (False, second, True)
    assert registry.current_import(betterback) == second
    assert second.uploaded_by == data_manager
    # the national IDs are nowhere in the analysis tables
    stored = str(list(RegistryRecord.objects.values())) + str(list(RegistryImport.objects.values()))
    assert not any(i in stored for i in ids)
    prices = betterback.prices["items"]
    expected = (2 * prices["lbp_visit_primary_care"] + prices["multimodal_pain_team"]
                + prices["orthopaedic_or_neurosurgical_visit"] + 5 * prices["sick_leave_day"])
    costs = registry.participant_costs(second)
    assert costs[data[0].pk] == {"cost": expected, "specialist_care": True}
    df = exports.analysis_dataset(betterback)
    assert (df.cost == expected).all() and df.specialist_care.all()
    use = registry.utilisation(second)
    assert set(use.item) == set(registry.ITEMS) and len(use) == 6 * len(data)


def test_excel_upload(betterback, data):
    pytest.importorskip("openpyxl")
    frame = pd.DataFrame([[p.study_id, 1, 0, 0, 0, 0, 3] for p in data],
                         columns=["study_id", *registry.ITEMS])
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    imp = registry.import_file(betterback, "x.xlsx", buffer.getvalue())
    assert imp.rows == len(data)


def test_upload_page_shows_errors_and_is_for_data_managers(client, betterback, data,
                                                             data_manager, statistician,
                                                             settings, tmp_path):
    settings.CELERY_TASK_ALWAYS_EAGER, settings.VAR_DIR = True, tmp_path
    url = reverse("analysis_registry", args=["betterback"])
    client.force_login(statistician)
    assert client.get(url).status_code == 403
    client.force_login(data_manager)
    bad = io.BytesIO(_csv(["BB-X-1,1,0,0,0,0,0"]))
    bad.name = "bad.csv"
    page = client.post(url, {"file": bad}, follow=True)
    assert b"line 2: BB-X-1 is not a participant" in page.content
    assert not RegistryImport.objects.exists()
    good = io.BytesIO(_csv([f"{p.study_id},1,0,0,0,0,0" for p in data]))
    good.name = "good.csv"
    page = client.post(url, {"file": good}, follow=True)
    assert f"Imported {len(data)} rows from good.csv".encode() in page.content
    assert RegistryImport.objects.get().uploaded_by == data_manager
    # The uploaded files (they may hold national IDs) are gone once checked.
    assert not list((tmp_path / "registry").iterdir())


def test_a_large_wrong_file_is_checked_in_the_background_and_shows_the_first_errors(
    client, betterback, data, data_manager, settings, tmp_path
):
    settings.VAR_DIR = tmp_path
    client.force_login(data_manager)
    url = reverse("analysis_registry", args=["betterback"])
    wrong = io.BytesIO(_csv([f"BB-X-{n},x,0,0,0,0,0" for n in range(30_000)]))
    wrong.name = "wrong.csv"
    queued = client.post(url, {"file": wrong})  # no worker here: the request only queues
    upload = RegistryUpload.objects.get()
    assert queued["Location"] == f"{url}?upload={upload.pk}"
    waiting = client.get(queued["Location"]).content.decode()
    assert upload.status == "pending" and 'http-equiv="refresh"' in waiting
    assert "Checking every row" in waiting
    registry_upload_task.apply(args=[upload.pk])  # what the worker runs
    upload.refresh_from_db()
    assert upload.status == "failed" and upload.error_count == 60_000
    assert len(upload.errors) == registry.MAX_ERRORS and upload.errors[0] == [
        2, "BB-X-0 is not a participant of betterback"
    ]
    page = client.get(queued["Location"]).content.decode()
    assert page.count("<li>line ") == registry.MAX_ERRORS and 'http-equiv="refresh"' not in page
    assert f"and {60_000 - registry.MAX_ERRORS} more not shown" in page
    assert not RegistryImport.objects.exists() and not Path(upload.path).exists()


def test_binary_junk_gets_a_clear_message_and_progress_is_reported(betterback):
    junk = b"\x89PNG\r\n\x1a\n\x00\xff\xfe\xfa" + bytes(range(256)) * 20
    for name, expected in (("x.csv", "not a text file in UTF-8"),
                           ("x.xlsx", "not an Excel workbook")):
        with pytest.raises(registry.RegistryError) as exc:
            registry.import_file(betterback, name, junk)
        [(line, reason)] = exc.value.errors
        assert line == 0 and reason.startswith(expected)
    assert not RegistryImport.objects.exists()
    seen = []
    with pytest.raises(registry.RegistryError):
        registry.import_file(betterback, "x.csv",
                             _csv([f"BB-X-{n},1,0,0,0,0,0" for n in range(5000)]),
                             progress=seen.append)
    assert seen[0] == 0 and len(seen) >= 5 and seen == sorted(seen) and seen[-1] < 100
