"""The analysis tabs a user may open: a tab that would answer 403 is not shown."""

from django import template

from enrolment import permissions as roles

register = template.Library()

# The roles the views check (analysis.views, analysis.views_imports), named where they
# are defined: importing the views would load the analysis plan's statistics libraries
# (1.7 s) into every process that checks its templates, each Celery worker among them.
TAB_ROLES = {
    "registry": roles.REGISTRY, "imports": roles.REGISTRY, "blinding": roles.BLINDING,
}


@register.simple_tag(takes_context=True)
def may_open(context, trial, tab: str) -> bool:
    return roles.has_any(context["request"].user, trial, TAB_ROLES[tab])
