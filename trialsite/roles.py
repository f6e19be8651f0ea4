"""The site's roles and role sets under their old name: they live in
:mod:`enrolment.permissions`, at the bottom of the app order, so that every app may ask."""

from enrolment.permissions import *  # noqa: F403
from enrolment.permissions import _allowed, _load_roles  # noqa: F401
