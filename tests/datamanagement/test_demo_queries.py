"""The demo shows queries in every state and queries the edit checks opened, and a second
build adds none."""

import pytest
from django.core.management import call_command

from datamanagement.queries.models import Query

pytestmark = pytest.mark.django_db


def test_demo_has_queries_in_every_state_and_from_the_checks():
    args = [
        "--no-serve",
        "--participants",
        "12",
        "--safe-participants",
        "0",
        "--other-participants",
        "0",
    ]
    call_command("demo", *args)
    manual = Query.objects.filter(check_code="", participant__trial__code="betterback")
    assert set(manual.values_list("state", flat=True)) == {
        Query.OPEN,
        Query.ANSWERED,
        Query.CLOSED,
        Query.REOPENED,
    }
    assert manual.filter(messages__kind="corrected").exists()
    assert Query.objects.exclude(check_code="").exists()
    before = (Query.objects.count(), sorted(Query.objects.values_list("state", flat=True)))
    call_command("demo", *args)
    assert (Query.objects.count(), sorted(Query.objects.values_list("state", flat=True))) == before
