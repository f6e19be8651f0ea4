"""The database lock: the whole trial refuses every change until unlocked with a reason,
and the locked dataset (every export, the locks, the audit trail and any registered
part, such as the query log) is one zip with a SHA-256 manifest, stored and
downloadable."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

import pytest
from django.urls import reverse

from datamanagement import bundle
from datamanagement.locks import services as locks
from datamanagement.locks.models import Lock, LockedDataset
from enrolment import guards
from questionnaires.services.saving import correct_response
from tests.conftest import use_betterback_built_once

from ...factories import enrol
from .conftest import nrs_3m

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture
def query_log_part():
    # A stand-in for the real query log, put back afterwards (the app registers it once).
    real = bundle.parts().get("query_log")
    bundle.register_part("query_log", lambda trial: ("query_log.csv", b"query_id,study_id\n"))
    yield
    if real is None:
        bundle._parts.pop("query_log", None)
    else:
        bundle.register_part("query_log", real)


def test_database_lock_builds_the_locked_dataset_and_refuses_every_change(
    participant, data_manager, statistician, physio_west, client, query_log_part, settings,
    tmp_path, clinic_west,
):
    settings.VAR_DIR = tmp_path
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the bundle's task runs in the request
    client.force_login(data_manager)
    r = client.post(reverse("datamanagement:database_lock", args=["betterback"]),
                    {"reason": "primary analysis", "confirm": "1"})
    assert r.status_code == 302
    dataset = LockedDataset.objects.get()
    data = (tmp_path / "locked-datasets" / dataset.file_name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == dataset.sha256
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        manifest = zf.read(bundle.MANIFEST).decode().splitlines()
        for line in manifest:
            digest, name = line.split("  ")
            assert hashlib.sha256(zf.read(name)).hexdigest() == digest
        audit = zf.read("audit_trail.csv").decode()
    assert {line.split("  ")[1] for line in manifest} == names - {bundle.MANIFEST}
    for fmt in ("csv", "sav", "dta", "parquet"):
        for stem in ("betterback_wide_score", "betterback_long_item", "betterback_analysis"):
            assert f"exports/{fmt}/{stem}.{fmt}" in names
    assert {"audit_trail.csv", "locks.csv", "query_log.csv"} <= names
    assert participant.study_id in audit
    assert participant.personal_details.full_name not in audit  # study IDs only
    assert participant.personal_details.national_id not in audit

    # Everything refuses: a correction, an enrolment, a new form.
    response = nrs_3m(participant)
    with pytest.raises(guards.WriteRefused, match="database lock"):
        correct_response(response, {"back": 0, "leg": 0}, "typo", data_manager)
    with pytest.raises(guards.WriteRefused):
        enrol(clinic_west)
    page = client.get(reverse("datamanagement:trial", args=["betterback"])).content
    assert b"database-locked" in page

    # The statistician downloads it; a physiotherapist may not.
    client.force_login(statistician)
    download = client.get(reverse("datamanagement:dataset_download", args=[dataset.pk]))
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == dataset.sha256
    client.force_login(physio_west)
    assert client.get(
        reverse("datamanagement:dataset_download", args=[dataset.pk])
    ).status_code == 403

    # Unlocked with a reason, the trial takes changes again.
    lock = Lock.objects.active().get(level=Lock.TRIAL)
    with pytest.raises(Exception, match="needs a reason"):
        locks.unlock(lock, user=data_manager, reason="")
    locks.unlock(lock, user=data_manager, reason="a late form found at a clinic")
    correct_response(nrs_3m(participant), {"back": 0, "leg": 0}, "typo", data_manager)


def test_the_command_locks_and_unlocks(participant, settings, tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("lock_database", "betterback", "--reason", "primary analysis", stdout=out)
    dataset = LockedDataset.objects.get()
    assert dataset.sha256 in out.getvalue()
    with pytest.raises(guards.WriteRefused):
        correct_response(nrs_3m(participant), {"back": 0}, "typo")
    with pytest.raises(CommandError, match="needs a reason"):
        call_command("lock_database", "betterback", "--unlock")
    call_command("lock_database", "betterback", "--unlock", "--reason", "late form",
                 stdout=out)
    assert not Lock.objects.active().exists()


def test_a_database_lock_or_a_freeze_needs_a_reason_and_the_lock_a_confirmation(
    client, betterback, data_manager
):
    """A walk locked a trial's database with one click: no confirmation, no reason on
    record. Freezing a frozen timepoint said "Frozen" and recorded nothing."""
    from datamanagement.locks.models import Lock

    client.force_login(data_manager)
    url = reverse("datamanagement:database_lock", args=["betterback"])
    page = client.post(url, {"reason": "primary analysis"}, follow=True).content.decode()
    assert "Tick the box to confirm" in page
    page = client.post(url, {"reason": " ", "confirm": "1"}, follow=True).content.decode()
    assert "needs a reason" in page
    assert not Lock.objects.active().exists()
    freeze = reverse("datamanagement:freeze", args=["betterback"])
    page = client.post(freeze, {"timepoint": "3m", "reason": ""}, follow=True).content.decode()
    assert "needs a reason" in page and not Lock.objects.active().exists()
    client.post(freeze, {"timepoint": "3m", "reason": "interim analysis"})
    page = client.post(freeze, {"timepoint": "3m", "reason": "again"}, follow=True)
    assert "already frozen (interim analysis)" in page.content.decode()
    assert Lock.objects.active().get().reason == "interim analysis"
    # and the freeze form offers only what is not frozen yet
    page = client.get(reverse("datamanagement:trial", args=["betterback"])).content.decode()
    offered = re.findall(r'<option value="([\w-]+)"', page.split('id="freeze-form"')[1])
    assert "3m" not in offered and "6m" in offered
