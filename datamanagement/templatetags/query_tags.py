"""Query marks for pages of the apps below (they load this library in their templates
and import nothing from data management):

- ``{% participant_queries participant %}``: the participant page's card of queries;
- ``{% open_queries participant timepoint instrument %}``: the open queries on the values
  of one form (the correction, paper-entry, CRPE and comparison pages);
- ``{% open_queries_by_clinic trial %}``: the monitoring dashboard's open queries per
  clinic and their median age.
"""

from django import template

from datamanagement.queries import permissions, summary
from datamanagement.queries.models import Query

register = template.Library()


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.inclusion_tag("datamanagement/queries/_participant_queries.html", takes_context=True)
def participant_queries(context, participant):
    user = _user(context)
    if user is None:
        return {"shown": False}
    queries = list(
        Query.objects.visible_to(user)
        .filter(participant=participant)
        .select_related("raised_by")
        .order_by("state", "-raised_at")
    )
    may_raise = permissions.can_raise(user, participant)
    return {
        "shown": bool(queries) or may_raise,
        "participant": participant,
        "open": [q for q in queries if q.state in Query.UNRESOLVED],
        "closed": sum(q.state == Query.CLOSED for q in queries),
        "may_raise": may_raise,
        "trial": participant.trial,
    }


@register.inclusion_tag("datamanagement/queries/_open_queries.html", takes_context=True)
def open_queries(context, participant, timepoint_code="", instrument=""):
    user = _user(context)
    if user is None or participant is None:
        return {"queries": []}
    queries = Query.objects.visible_to(user).filter(
        participant=participant, state__in=Query.UNRESOLVED
    )
    if timepoint_code:
        queries = queries.filter(timepoint_code=timepoint_code)
    if instrument:
        queries = queries.filter(instrument=instrument)
    return {"queries": list(queries.prefetch_related("messages")), "trial": participant.trial}


@register.inclusion_tag("datamanagement/queries/_by_clinic.html", takes_context=True)
def open_queries_by_clinic(context, trial):
    user = _user(context)
    if user is None or not permissions.can_read_trial(user, trial):
        return {"shown": False}
    visible = Query.objects.visible_to(user).filter(participant__trial=trial)
    return {"shown": True, "trial": trial, "rows": summary.open_by_clinic(visible)}


@register.simple_tag
def query_message_text(message, query, trial):
    """``{% query_message_text m query trial as text %}``: the message in the page's
    language where it is the edit check's own (:func:`datamanagement.queries.texts.shown`)."""
    from datamanagement.queries.texts import shown

    return shown(message, query, getattr(trial, "edit_checks", None))
