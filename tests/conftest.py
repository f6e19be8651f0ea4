import os
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY

from enrolment.models import Clinic, Trial, TrialRole
from enrolment.protocol.writing import load_protocol

from . import schema_snapshot
from .built_once import rolled_back
from .factories import AuthenticatorFactory, PhysiotherapistFactory, TrialRoleFactory, UserFactory

PROTOCOLS = Path(__file__).resolve().parent.parent / "protocols"

# pytest keeps each test module with its assertions rewritten as bytecode in __pycache__
# (ignored by git), unless Python is told to write no bytecode (PYTHONDONTWRITEBYTECODE,
# set on some machines): then every process, each xdist worker included, rewrites every
# test module again, 8 s of a 16 s collection on a 2-core machine, and every Django
# process the tests start compiles the project's modules anew. The workers and those
# processes inherit the environment.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_sessionstart(session):
    """CI tests the production stack: an unreachable Redis is an error, never a skip."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker.startswith("redis://"):
        import redis

        try:
            redis.Redis.from_url(broker, socket_connect_timeout=3).ping()
        except redis.exceptions.ConnectionError as exc:
            raise pytest.UsageError(
                f"Redis at {urlparse(broker).netloc} is unreachable: {exc}"
            ) from exc


def pytest_configure(config):
    """``TRIALSITE_TEST_CLOCK=2026-11-30T21:30:00Z`` runs the tests on a clock that starts
    there and ticks: the way to check that no test depends on the hour (that one is
    22:30 in Stockholm, in BetterBack's quiet hours). Servers and workers the end-to-end
    tests start keep the real clock, so their two-factor codes disagree."""
    at = os.environ.get("TRIALSITE_TEST_CLOCK")
    if at:
        time_machine.travel(at, tick=True).start()


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker more than the cores. The process and browser tests wait on
    their servers, workers and clocks: with two workers on two cores the cores stood idle
    7.7% of a run (up to 45% while two such modules ran side by side), with three 2.5%,
    and the run took 659 s against 604 s."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    return len(os.sched_getaffinity(0)) + 1


def pytest_collection_modifyitems(config, items):
    """The longest modules first: modules marked ``heavy``, then the browser and process
    tests (``e2e``), then the rest, each module kept whole. A parallel run hands out
    whole modules in this order (``--dist loadfile`` with ``--no-loadscope-reorder``,
    pyproject.toml; xdist's own order puts the modules with the fewest tests last, and
    those are the slowest), so that no minute-long module starts when the others end."""

    def rank(item):
        if item.get_closest_marker("heavy"):
            return 0
        return 1 if item.get_closest_marker("e2e") else 2

    module_rank = {}
    for item in items:
        module_rank[item.module] = min(rank(item), module_rank.get(item.module, 2))
    items.sort(key=lambda item: module_rank[item.module])  # stable: the rest as collected


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The test databases are created within: a kept copy of the migrated schema instead
    of migrating from scratch in every process (tests/schema_snapshot.py)."""
    with schema_snapshot.reused():
        yield


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Passwords hashed in one iteration (tests/hashers.py): a staff fixture cost 2 s under load."""
    with override_settings(PASSWORD_HASHERS=["tests.hashers.OneIterationPBKDF2PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _no_language_left_active():
    """A Swedish page requested by one test must not leave the next test's messages in
    Swedish (the active language is per thread, and a worker runs many files)."""
    yield
    translation.deactivate()


class VerifiedClient(Client):
    """``force_login`` as a staff member who has also given their second factor, as
    every staff member of a trial that requires it has (accounts.middleware). Tests of
    the second factor itself use ``unverified_client``."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        device = user.totpdevice_set.filter(confirmed=True).first() or AuthenticatorFactory(
            user=user
        )
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


@pytest.fixture
def client():
    return VerifiedClient()


@pytest.fixture
def admin_client(admin_user):
    client = VerifiedClient()
    client.force_login(admin_user)
    return client


@pytest.fixture
def unverified_client():
    return Client()


@pytest.fixture
def betterback(db):
    trial, _ = load_protocol(PROTOCOLS / "betterback.toml")
    return trial


@pytest.fixture(scope="module")
def _betterback_once(django_db_setup, django_db_blocker):
    with rolled_back(django_db_blocker):
        trial, _ = load_protocol(PROTOCOLS / "betterback.toml")
        yield trial.pk


@pytest.fixture
def betterback_built_once(_betterback_once, db):
    """``betterback`` loaded once for a module (tests/built_once.py) instead of once a test
    (0.2–0.4 s each): a module opts in with ``betterback = use_betterback_built_once()``
    when none of its tests is ``transaction=True`` and all of them use the trial. Each test
    reads the trial afresh, so no test sees another's in-memory changes to it."""
    return Trial.objects.get(pk=_betterback_once)


def use_betterback_built_once():
    @pytest.fixture
    def betterback(betterback_built_once):
        return betterback_built_once

    return betterback


@pytest.fixture
def clinic_west(betterback):
    return Clinic.objects.get(cluster__trial=betterback, code="MOT")


@pytest.fixture
def clinic_central(betterback):
    return Clinic.objects.get(cluster__trial=betterback, code="EKH")


@pytest.fixture
def clinic_east(betterback):
    return Clinic.objects.get(cluster__trial=betterback, code="NCE")


def _staff(user):
    """Staff fixtures have set up an authenticator (browser tests answer its code)."""
    AuthenticatorFactory(user=user)
    return user


def _role(trial, role, username):
    return _staff(
        TrialRoleFactory(user=UserFactory(username=username), trial=trial, role=role).user
    )


@pytest.fixture
def coordinator(betterback):
    return _role(betterback, TrialRole.COORDINATOR, "coordinator")


@pytest.fixture
def statistician(betterback):
    return _role(betterback, TrialRole.STATISTICIAN, "statistician")


@pytest.fixture
def data_manager(betterback):
    return _role(betterback, TrialRole.DATA_MANAGER, "datamanager")


@pytest.fixture
def physio_west(clinic_west):
    return _staff(
        PhysiotherapistFactory(user=UserFactory(username="physio_west"), clinic=clinic_west).user
    )


@pytest.fixture
def physio_east(clinic_east):
    return _staff(
        PhysiotherapistFactory(user=UserFactory(username="physio_east"), clinic=clinic_east).user
    )
