"""A lock and a write at the same moment (PostgreSQL, two connections): the data manager's
lock waits for a correction already checked to commit, and a correction that comes after
the lock sees it. Nothing lands after a lock that the lock did not see."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from datamanagement.locks import services as locks
from datamanagement.locks.models import Lock
from enrolment import guards
from questionnaires.services.saving import correct_response

from .conftest import nrs_3m

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_lock_waits_for_a_write_in_flight_and_the_next_write_sees_it(participant,
                                                                       data_manager):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL; CI runs this against PostgreSQL")
    saved, release, locked = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def correct():
        try:
            with transaction.atomic():
                response = nrs_3m(participant)
                correct_response(response, {"back": 0, "leg": 0}, "typo",
                                          data_manager)
                saved.set()  # checked by the guard and written, not yet committed
                release.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def lock():
        try:
            locks.lock(Lock.PARTICIPANT, trial=participant.trial, participant=participant,
                       user=data_manager, reason="clean")
            locked.set()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=correct)
    writer.start()
    assert saved.wait(10)
    locker = threading.Thread(target=lock)
    locker.start()
    time.sleep(1)
    assert not locked.is_set()  # the lock waits for the correction in flight
    release.set()
    writer.join(10)
    locker.join(10)
    assert errors == [] and locked.is_set()
    assert nrs_3m(participant).answers == {"back": 0, "leg": 0}  # it committed, before
    with pytest.raises(guards.WriteRefused):
        correct_response(nrs_3m(participant), {"back": 1, "leg": 1}, "again",
                                  data_manager)
