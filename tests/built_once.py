"""Data built once for all the tests of a module, then rolled back.

Building the demo takes 10–40 s; the tests that look at what it built only read. The
module's fixture builds inside a transaction that is rolled back after its last test,
and each test runs in a savepoint within it (pytest-django's ``db``), so the tests
still cannot see each other's writes, nor another module's data. Not for
``transaction=True`` tests, which commit.
"""

import contextlib

from django.db import transaction


@contextlib.contextmanager
def rolled_back(django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)
