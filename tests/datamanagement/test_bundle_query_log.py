"""The locked dataset carries the whole query log, as the database lock promises."""

import csv
import hashlib
import io
import zipfile

import pytest

from datamanagement import bundle
from datamanagement.queries.actions import raise_query
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_the_locked_dataset_bundle_holds_the_query_log_with_study_ids_only(
    participant, odi_baseline, data_manager
):
    raise_query(participant, "baseline.odi.q3", "Section 3 looks mistyped", data_manager)
    data, manifest = bundle.build_zip(participant.trial)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        log = zf.read("query_log.csv")
    assert manifest["query_log.csv"] == hashlib.sha256(log).hexdigest()
    rows = list(csv.DictReader(io.StringIO(log.decode())))
    assert rows and {r["study_id"] for r in rows} == {participant.study_id}
    assert "Section 3 looks mistyped" in log.decode()
    assert participant.personal_details.full_name not in log.decode()
