"""One permissions module (enrolment.permissions): every role set is named there, and
each app asks it instead of spelling out its own."""

import ast
from datetime import date

import pytest

from analysis import monitoring
from enrolment import permissions
from enrolment.models import TrialRole
from tests.conftest import use_betterback_built_once

from .factories import TrialRoleFactory, UserFactory
from .test_layering import ROOT, _modules

betterback = use_betterback_built_once()  # loaded once for the module

ROLE_NAMES = {
    "COORDINATOR",
    "DATA_MANAGER",
    "STATISTICIAN",
    "ADMINISTRATOR",
    "PHYSIOTHERAPIST",
    "MONITOR",
    "INVESTIGATOR",
}
OWNERS = {"roles", "permissions", "TrialRole"}


def _is_role(node) -> bool:
    """``roles.COORDINATOR``, ``TrialRole.MONITOR``: a role named where sets are made."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr in ROLE_NAMES
        and isinstance(node.value, ast.Name)
        and node.value.id in OWNERS
    )


def test_role_sets_are_defined_in_the_permissions_module_only():
    found = []
    for _app, module, path in _modules():
        if module in ("enrolment.permissions", "enrolment.models") or ".demo" in module:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # Two roles or more make a role set; {roles.COORDINATOR} is just the one role.
            sets = isinstance(node, ast.Set | ast.List | ast.Tuple)
            if sets and sum(map(_is_role, node.elts)) >= 2:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "role sets outside enrolment.permissions:\n" + "\n".join(found)


def test_the_old_name_is_the_same_module_contents():
    from trialsite import roles

    assert roles.TRIAL_WIDE is permissions.TRIAL_WIDE
    assert roles.participant_filter is permissions.participant_filter


@pytest.mark.django_db
def test_the_weekly_email_goes_to_active_coordinators_only(betterback):
    for name, active in (("active", True), ("gone", False)):
        user = UserFactory(username=name, email=f"{name}@example.org", is_active=active)
        TrialRoleFactory(user=user, trial=betterback, role=TrialRole.COORDINATOR)
    messages = monitoring.weekly_summaries(betterback, date(2017, 6, 1))
    assert [m.to for m in messages] == [["active@example.org"]]
