"""The weekly recruitment email reaches a clinic manager through the real beat schedule:
Celery beat's scheduler over settings.CELERY_BEAT_SCHEDULE, its clock moved from a
Sunday evening to Monday morning, the due tasks executed, and the email received by a
local SMTP server."""

from datetime import UTC, datetime

import pytest
import time_machine
from celery.beat import Scheduler

from tests.conftest import use_betterback_built_once
from trialsite.celery import app

from ..followup.conftest import smtp  # noqa: F401 - the local SMTP server
from .test_clinic_manager import manager, recruited  # noqa: F401 - fixtures used here

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
SUNDAY_EVENING = datetime(2017, 6, 11, 20, 0, tzinfo=UTC)


def run_due(scheduler: Scheduler) -> None:
    """What beat's loop does until the next entry is due: one due entry per tick."""
    for _ in range(50):
        if scheduler.tick() > 0:
            return
    raise AssertionError("beat kept finding due entries")


@pytest.fixture
def eager():
    """Tasks that beat sends run in this process (the transport is tested in
    tests/test_celery.py): the test's database and SMTP server are theirs."""
    app.loader.import_default_modules()
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_weekly_recruitment_email_reaches_a_clinic_manager_on_monday(
    smtp,  # noqa: F811
    manager,  # noqa: F811
    recruited,  # noqa: F811
    clinic_west,
    clinic_east,
    eager,
):
    with time_machine.travel(SUNDAY_EVENING):
        scheduler = Scheduler(app)
        assert "monitoring-weekly-summary" in scheduler.schedule
        run_due(scheduler)
    with time_machine.travel(datetime(2017, 6, 12, 6, 29, tzinfo=UTC)):
        run_due(scheduler)
    assert not [m for m in smtp.received if "manager@clinic.example" in m.to]
    with time_machine.travel(datetime(2017, 6, 12, 6, 30, 5, tzinfo=UTC)):
        run_due(scheduler)

    (email,) = [m for m in smtp.received if "manager@clinic.example" in m.to]
    assert email.to == ["manager@clinic.example"]
    assert "weekly recruitment 2017-06-12" in email.subject
    assert f"- {clinic_west.name}: last week 1 screened, 2 enrolled" in email.text
    assert clinic_east.name not in email.text
    west, east = recruited
    assert not {p.study_id for p in (*west, east)} & set(email.text.split())


def test_the_weekly_email_settings_come_from_the_environment():
    from ..test_settings import _run

    result = _run(
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.MONITORING_WEEKLY_EMAIL, s.MONITORING_CLUSTER_EMAILS)",
        MONITORING_WEEKLY_EMAIL="0",
        MONITORING_CLUSTER_EMAILS='{"betterback:W": ["west@clinic.example"]}',
    )
    assert result.stdout.strip() == "False {'betterback:W': ['west@clinic.example']}", result.stderr
    default = _run("import django; django.setup(); from django.conf import settings as s;"
                   "print(s.MONITORING_WEEKLY_EMAIL, s.MONITORING_CLUSTER_EMAILS)")  # fmt: skip
    assert default.stdout.strip() == "True {}", default.stderr
