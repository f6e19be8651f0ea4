"""The analysis tabs a user may open: a tab that would answer 403 is not shown."""

from django import template

from enrolment import permissions as roles

from ..views import BLINDING_ROLES, REGISTRY_ROLES

register = template.Library()

# Imports: the registry's roles (analysis.views_imports.IMPORT_ROLES).
TAB_ROLES = {
    "registry": REGISTRY_ROLES, "imports": REGISTRY_ROLES, "blinding": BLINDING_ROLES,
}


@register.simple_tag(takes_context=True)
def may_open(context, trial, tab: str) -> bool:
    return roles.has_any(context["request"].user, trial, TAB_ROLES[tab])
