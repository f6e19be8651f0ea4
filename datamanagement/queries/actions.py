"""The write path of queries: raise, answer, correct from the query, close, re-open.

Each action checks who may take it, writes the state change and a message (the query's
log) in one transaction. A correction goes through the existing audited correction flow
(``questionnaires.services.saving.correct_response``, ``enrolment.actions.changes.update_*``) with a
reason that names the query.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from enrolment import guards
from enrolment.actions.changes import update_participant, update_personal_details
from enrolment.audit import QUERY
from enrolment.edit_checks import COMPLETED, ENROLMENT_FIELDS
from enrolment.models import Consent, Participant
from questionnaires.models import Response
from questionnaires.services.saving import correct_response

from . import permissions
from .models import Query, QueryMessage


class QueryError(ValidationError):
    """A refused query action; its ``code`` is stable (the API returns it to scripts)."""


# --- values -------------------------------------------------------------------------------


def targets_of(participant: Participant) -> list[tuple[str, str]]:
    """(reference, label) of every value of the participant a query may be raised on."""
    out = [(f"enrolment.{f}", _("Enrolment: %(field)s") % {"field": f}) for f in ENROLMENT_FIELDS]
    responses = (
        Response.objects.filter(participant=participant, entry=Response.FINAL, week__isnull=True)
        .select_related("timepoint")
        .order_by("timepoint__order", "instrument")
    )
    for response in responses:
        definition = response.definition()
        prefix = f"{response.timepoint.code}.{response.instrument}"
        for item in definition.items:
            out.append(
                (
                    f"{prefix}.{item.id}",
                    f"{response.timepoint.label} · {definition.name} · {item.id}: "
                    f"{_(item.text)[:60]}",
                )
            )
    return out


def resolve_target(participant: Participant, ref: str) -> dict:
    """The Query fields of a value reference; QueryError if the participant has no such
    value."""
    parts = (ref or "").split(".")
    if len(parts) == 2 and parts[0] == "enrolment" and parts[1] in ENROLMENT_FIELDS:
        return {
            "response": None,
            "field": parts[1],
            "instrument": "enrolment",
            "timepoint_code": "",
        }
    if len(parts) == 3:
        response = Response.objects.filter(
            participant=participant,
            timepoint__code=parts[0],
            instrument=parts[1],
            entry=Response.FINAL,
            week__isnull=True,
        ).first()
        if response is not None and (
            parts[2] == COMPLETED or parts[2] in response.definition().item_ids
        ):
            return {
                "response": response,
                "field": parts[2],
                "instrument": parts[1],
                "timepoint_code": parts[0],
            }
    raise QueryError(
        _("%(ref)s is not a value of this participant.") % {"ref": ref}, code="unknown_value"
    )


def current_value(query: Query):
    """The queried value as stored now (None when missing)."""
    if query.response_id is not None:
        response = query.response
        if query.field == COMPLETED:
            return response.completed_at.date().isoformat() if response.completed_at else None
        return response.answers.get(query.field)
    return _enrolment_value(query.participant, query.field)


def _enrolment_value(participant: Participant, field: str):
    if field == "date_of_birth":
        details = getattr(participant, "personal_details", None)
        value = details.date_of_birth if details else None
    elif field == "consented_on":
        consent = Consent.objects.filter(participant=participant).first()
        value = consent.consented_on if consent else None
    else:
        value = getattr(participant, field)
    return value.isoformat() if isinstance(value, dt.date) else value


def parse_value(query: Query, raw: str):
    """A typed value for the queried field (a date, a code, a list; blank is missing)."""
    raw = (raw or "").strip()
    if raw == "":
        return None
    item = None
    if query.response_id is not None and query.field != COMPLETED:
        item = query.response.definition().item(query.field)
    if item is None or item.kind == "date":
        try:
            return dt.date.fromisoformat(raw).isoformat()
        except ValueError:
            raise QueryError(_("Give the date as YYYY-MM-DD."), code="invalid_value") from None
    if item.kind == "text":
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise QueryError(
            _("%(raw)s is not a valid value for this item.") % {"raw": raw}, code="invalid_value"
        ) from None


# --- actions ------------------------------------------------------------------------------


def _say(query: Query, kind: str, text: str, user=None, **values) -> QueryMessage:
    return QueryMessage.objects.create(
        query=query, kind=kind, author=user, at=timezone.now(), text=text, **values
    )


def _text(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise QueryError(what, code="text_required")
    return text


def _locked(query: Query) -> Query:
    return Query.objects.select_for_update().select_related("participant__trial").get(pk=query.pk)


@transaction.atomic
def raise_query(participant: Participant, ref: str, text: str, user) -> Query:
    if not permissions.can_raise(user, participant):
        raise PermissionDenied
    text = _text(text, _("Say what is wrong with the value."))
    query = Query.objects.create(
        participant=participant,
        raised_by=user,
        raised_at=timezone.now(),
        **resolve_target(participant, ref),
    )
    _say(query, QueryMessage.RAISED, text, user)
    return query


@transaction.atomic
def answer_query(query: Query, text: str, user) -> Query:
    query = _locked(query)
    if not permissions.can_answer(user, query.participant):
        raise PermissionDenied
    if query.state == Query.CLOSED:
        raise QueryError(_("This query is closed."), code="query_closed")
    _say(query, QueryMessage.ANSWERED, _text(text, _("Write an answer.")), user)
    query.state = Query.ANSWERED
    query.save(update_fields=["state"])
    return query


def correction_reason(query: Query, text: str) -> str:
    return QUERY % {"number": query.pk, "target": query.target, "text": text}


@transaction.atomic
def correct_from_query(query: Query, new_value, text: str, user) -> Query:
    """Correct the queried value through the audited correction flow (the query is the
    reason), then the query is answered."""
    query = _locked(query)
    if not permissions.can_answer(user, query.participant):
        raise PermissionDenied
    if query.state == Query.CLOSED:
        raise QueryError(_("This query is closed."), code="query_closed")
    if query.field == COMPLETED:
        raise QueryError(
            _("A completion date is not corrected here; answer the query."), code="not_correctable"
        )
    text = _text(text, _("Say why the value changes."))
    old = current_value(query)
    if old == new_value:
        raise QueryError(_("The new value is the same as the stored one."), code="unchanged")
    reason = correction_reason(query, text)
    # Said first, so that the thread reads "corrected" before an edit check's own
    # "closed"; a refused correction rolls the message back with it.
    _say(query, QueryMessage.CORRECTED, text, user, old_value=old, new_value=new_value)
    if query.response_id is not None:
        answers = {k: v for k, v in query.response.answers.items() if k != query.field}
        if new_value is not None:
            answers[query.field] = new_value
        correct_response(query.response, answers, reason, user)
    else:
        _correct_enrolment(query.participant, query.field, new_value, reason)
    query.refresh_from_db(fields=["state"])
    # A check run on the save may have closed it already (the value is right now).
    if query.state != Query.CLOSED:
        query.state = Query.ANSWERED
        query.save(update_fields=["state"])
    return query


def _correct_enrolment(participant: Participant, field: str, value, reason: str) -> None:
    if value is None:
        raise QueryError(_("An enrolment date cannot be left empty."), code="invalid_value")
    day = dt.date.fromisoformat(value)
    if field == "date_of_birth":
        update_personal_details(
            participant.personal_details, {field: day}, reason
        )
    elif field == "consented_on":
        consent = Consent.objects.select_for_update().get(participant=participant)
        consent.consented_on = day
        guards.check(consent, "save")
        consent._change_reason = reason
        consent.save()
    else:
        update_participant(participant, {field: day}, reason)


def _corrected_since_raised(query: Query) -> bool:
    last = query.messages.filter(kind__in=[QueryMessage.RAISED, QueryMessage.REOPENED]).last()
    corrections = query.messages.filter(kind=QueryMessage.CORRECTED)
    if last is not None:
        corrections = corrections.filter(pk__gt=last.pk)
    return corrections.exists()


CLOSED_AFTER_CORRECTION = gettext_noop("Closed after the correction.")


@transaction.atomic
def close_query(query: Query, text: str, user) -> Query:
    """Close; without a correction since it was raised (or re-opened) a reason is needed."""
    query = _locked(query)
    if not permissions.can_raise(user, query.participant):
        raise PermissionDenied
    if query.state == Query.CLOSED:
        raise QueryError(_("This query is closed already."), code="query_closed")
    text = (text or "").strip()
    if not text:
        if not _corrected_since_raised(query):
            raise QueryError(
                _("The value was not changed: give a reason to close the query."),
                code="reason_required",
            )
        text = CLOSED_AFTER_CORRECTION  # stored in English, shown translated (.texts)
    _say(query, QueryMessage.CLOSED, text, user)
    query.state, query.closed_at = Query.CLOSED, timezone.now()
    query.save(update_fields=["state", "closed_at"])
    return query


@transaction.atomic
def reopen_query(query: Query, text: str, user) -> Query:
    query = _locked(query)
    if not permissions.can_raise(user, query.participant):
        raise PermissionDenied
    if query.state not in (Query.CLOSED, Query.ANSWERED):
        raise QueryError(
            _("Only an answered or closed query is re-opened."), code="not_reopenable"
        )
    _say(query, QueryMessage.REOPENED, _text(text, _("Say why the query is re-opened.")), user)
    query.state, query.closed_at = Query.REOPENED, None
    query.save(update_fields=["state", "closed_at"])
    return query
