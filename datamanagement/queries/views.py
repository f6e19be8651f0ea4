"""Query pages: the trial's list (filters, counts, CSV), one query's thread with the
actions the user may take, raising a query on a participant's value, and open queries
per clinic. Querysets limit what anyone sees (a physiotherapist: their clinic's)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from enrolment import permissions as roles
from enrolment.models import Clinic, Participant, Trial
from questionnaires.readable import instrument_name

from . import actions, export, permissions, summary
from .forms import MessageForm, RaiseForm
from .models import Query


def _trial(user, code: str) -> Trial:
    trial = get_object_or_404(roles.trials_of(user), code=code)
    if not permissions.can_read_trial(user, trial):
        raise Http404
    return trial


def _instrument_name(trial, code: str) -> str:
    """A query's instrument as the filter names it: the enrolment record or the name of
    the version the trial's protocol pins (its code where the site no longer knows it)."""
    if code == "enrolment":
        return _("Enrolment")
    return instrument_name(code, trial=trial)


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def query_list(request, code):
    trial = _trial(request.user, code)
    visible = Query.objects.visible_to(request.user).filter(participant__trial=trial)
    params = {
        k: request.GET.get(k, "") for k in ("state", "clinic", "instrument", "age", "raised_by")
    }
    rows = summary.filtered(visible, params).select_related("participant__clinic", "raised_by")
    return render(
        request,
        "datamanagement/queries/list.html",
        {
            "trial": trial,
            "queries": rows[:500],
            "shown": rows.count(),
            "params": params,
            "counts": summary.counts_by_state(summary.filtered(visible, {**params, "state": ""})),
            "states": Query.STATES,
            "clinics": Clinic.objects.filter(roles.clinic_filter(request.user))
            .filter(cluster__trial=trial)
            .order_by("code"),
            "instruments": [(code, _instrument_name(trial, code))
                            for code in sorted(set(visible.values_list("instrument", flat=True)))],
            "raisers": sorted(
                set(visible.exclude(raised_by=None).values_list("raised_by__username", flat=True))
            ),
            "ages": summary.AGES,
            "by_clinic": summary.open_by_clinic(visible),
            "may_export": roles.has_any(request.user, trial, permissions.READERS),
        },
    )


@login_required
def query_log_csv(request, code):
    trial = _trial(request.user, code)
    if not roles.has_any(request.user, trial, permissions.READERS):
        raise PermissionDenied
    response = HttpResponse(export.query_log_csv(trial), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{trial.code}-query-log.csv"'
    return response


@login_required
def query_raise(request, study_id):
    participant = get_object_or_404(
        Participant.objects.visible_to(request.user).select_related("trial", "clinic"),
        study_id=study_id,
    )
    if not permissions.can_raise(request.user, participant):
        raise PermissionDenied
    form = RaiseForm(
        request.POST or None,
        initial={"value": request.GET.get("value", "")},
        targets=actions.targets_of(participant),
    )
    if request.method == "POST" and form.is_valid():
        try:
            query = actions.raise_query(
                participant, form.cleaned_data["value"], form.cleaned_data["text"], request.user
            )
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            messages.success(request, _("Query %(pk)s raised.") % {"pk": query.pk})
            return redirect("datamanagement:query_detail", pk=query.pk)
    return render(
        request,
        "datamanagement/queries/raise.html",
        {"participant": participant, "form": form},
    )


def _act(query: Query, data: dict, user) -> Query:
    action, text = data["action"], data["text"]
    if action == "answer":
        return actions.answer_query(query, text, user)
    if action == "correct":
        value = actions.parse_value(query, data["new_value"])
        return actions.correct_from_query(query, value, text, user)
    if action == "close":
        return actions.close_query(query, text, user)
    return actions.reopen_query(query, text, user)


@login_required
def query_detail(request, pk):
    query = get_object_or_404(
        Query.objects.visible_to(request.user).select_related(
            "participant__trial", "participant__clinic", "response__timepoint", "raised_by"
        ),
        pk=pk,
    )
    participant = query.participant
    form = MessageForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                _act(query, form.cleaned_data, request.user)
            except ValidationError as exc:
                messages.error(request, _errors(exc))
            else:
                messages.success(request, _("The query was updated."))
                return redirect("datamanagement:query_detail", pk=query.pk)
        else:
            messages.error(request, _("Choose an action."))
    may_raise = permissions.can_raise(request.user, participant)
    may_answer = permissions.can_answer(request.user, participant)
    item = None
    if query.response_id and query.field != "completed":
        item = query.response.definition().item(query.field)
    return render(
        request,
        "datamanagement/queries/detail.html",
        {
            "query": query,
            "participant": participant,
            "thread": query.messages.select_related("author"),
            "value": actions.current_value(query),
            "item": item,
            **_worded(query, item),
            "form": form,
            "may_answer": may_answer and query.state != Query.CLOSED,
            "may_correct": may_answer
            and query.state != Query.CLOSED
            and query.field != "completed",
            "may_close": may_raise and query.state != Query.CLOSED,
            "may_reopen": may_raise and query.state in (Query.CLOSED, Query.ANSWERED),
        },
    )


def _worded(query: Query, item) -> dict:
    """The item's wording and codes in the page's language, as the forms give them: the
    trial's official wording where loaded, else our paraphrase through the catalogue."""
    if item is None:
        return {"item_text": "", "codes": []}
    from django.utils.translation import get_language

    from questionnaires.services.answers import wording_for

    language = (get_language() or "en").split("-")[0]
    wording = wording_for(query.participant.trial, query.response.definition(), language)
    text = (wording.items.get(item.id) if wording else None) or _(item.text)
    own = (wording.choices.get(item.id) or {}) if wording else {}
    codes = [(c.code, own.get(str(c.code)) or _(c.label)) for c in item.choices]
    return {"item_text": text, "codes": codes}
