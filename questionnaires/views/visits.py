"""The visit, one instrument per page with Back / Next / Save and continue later.
:func:`run_visit_page` holds the logic and takes a :class:`Visit`, so a token link
without login (follow-up) reuses it; :func:`visit_start`, :func:`visit_page` and
:func:`visit_done` are the staff entry ("hand the tablet to the patient"), and the ``own_``
views a physiotherapist's own questionnaires. Patient pages use
``questionnaires/patient_base.html`` only and never receive the participant's condition,
cluster or arm.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from enrolment import consent_views, guards
from enrolment.consent.reading import is_held
from enrolment.models import Participant, Timepoint
from enrolment.views_enrol import trial_today
from questionnaires.services.answers import ResponseError, wording_for
from questionnaires.services.saving import Visit, save_answers

from .. import due, reasons
from ..forms import InstrumentForm
from ..models import Response
from .common import _editable_participant, _timepoint

# --- the visit, page by page -----------------------------------------------------------


def _save_page(form, valid: bool, kwargs: dict):
    """Save a page; (response, still valid). The same page sent again from another tab
    a moment earlier, with other answers, completed the response in between: the
    respondent sees their entry again with a word on why, and nothing is lost."""
    try:
        return save_answers(**kwargs), valid
    except guards.WriteRefused as exc:
        # Locked data (data management): staff read why; a patient on a link is told
        # plainly, without the staff's names.
        if getattr(kwargs.get("user"), "is_authenticated", False):
            form.add_error(None, exc.messages)
        else:
            form.add_error(None, _("These answers can no longer be changed."))
        return kwargs["response"], False
    except ResponseError:
        form.add_error(
            None,
            _(
                "These answers were saved a moment ago from another window. "
                "Check them and send again to keep what you see now."
            ),
        )
        return kwargs["response"], False


def run_visit_page(request, visit: Visit, page: int, page_url, done_url: str):
    """Show or save page ``page`` (1-based) of ``visit``.

    ``page_url(n)`` gives the URL of page n. Buttons: "back" and "save_later" save what is
    valid without requiring answers; "next" requires the required items, saves the valid
    answers even when some are wrong, and moves on only when the page is complete.
    """
    if visit.participant is not None and is_held(visit.participant, visit.trial_holds):
        return consent_views.not_available_now(request, visit.language)
    instruments = visit.instruments
    if not 1 <= page <= len(instruments):
        raise Http404
    instrument = instruments[page - 1]
    response = visit.response_for(instrument)
    # Once every form of a staff-held visit about a participant (the tablet in the clinic)
    # is complete, the visit is over: a later change is a staff correction with its own
    # reason, not the respondent's going back. Respondents on their own link or their own
    # questionnaires are the respondent, and keep their reason.
    finished = (
        visit.participant is not None
        and getattr(visit.user, "is_authenticated", False)
        and visit.first_open_page() > len(instruments)
    )
    saved = response.answers if response else {}
    saved_missing = response.missing if response else {}
    language = visit.language
    wording = wording_for(visit.trial, instrument, language)
    with translation.override(language):
        if request.method == "POST":
            action = request.POST.get("action", "next")
            complete = action == "next"
            form = InstrumentForm(
                instrument,
                request.POST,
                wording=wording,
                require=complete,
                reasons_for=reasons.RESPONDENT,
            )
            valid = form.is_valid()
            answers, missing = form.merged(saved, saved_missing)
            changed = answers != saved or missing != saved_missing
            if finished and changed:
                form.add_error(None, _finished_message(visit, response))
                valid = False
            elif response is None or changed or (valid and complete):
                response, valid = _save_page(form, valid, dict(
                    instrument=instrument,
                    timepoint=visit.timepoint,
                    answers=answers,
                    complete=valid and complete,
                    mode=visit.mode,
                    user=visit.user,
                    participant=visit.participant,
                    physiotherapist=visit.physiotherapist,
                    language=language,
                    response=response,
                    missing=missing,
                    reason=_("corrected by the respondent during the visit")
                    if response and response.is_complete and changed
                    else "",
                ))
            # With an error the page comes back with the values as entered; the valid
            # ones are saved already.
            if valid and action == "save_later":
                return redirect(done_url + "?later=1")
            if valid and action == "back":
                return redirect(page_url(max(page - 1, 1)))
            if valid:
                if page < len(instruments):
                    return redirect(page_url(page + 1))
                # Finished the last page: any page left unfinished earlier comes next.
                open_page = visit.first_open_page()
                if open_page <= len(instruments):
                    return redirect(page_url(open_page))
                return redirect(done_url)
        else:
            form = InstrumentForm(
                instrument,
                wording=wording,
                answers=saved,
                missing=saved_missing,
                reasons_for=reasons.RESPONDENT,
            )
        context = {
            "form": form,
            "instrument": instrument,
            "title": (wording.title if wording and wording.title else _(instrument.name)),
            "page": page,
            "pages": len(instruments),
            "percent": round(100 * (page - 1) / len(instruments)),
            "timepoint_label": visit.timepoint.label_in(visit.language),
            "back_url": page_url(page - 1) if page > 1 else "",
            "language": language,
        }
        return render(request, "questionnaires/visit_page.html", context)


def _finished_message(visit: Visit, response) -> str:
    return _(
        "This visit is finished. A change now is a correction: use the correction "
        "page of the form and give your reason."
    )


def _warn_if_locked(request, instance) -> bool:
    """Say on a page when what it would change is locked (data management's lock)."""
    refused = guards.refusal(instance)
    if refused:
        messages.warning(request, refused)
    return bool(refused)


def _staff_visit(request, study_id: str, timepoint: str) -> Visit:
    participant = _editable_participant(request.user, study_id)
    tp = _timepoint(participant, timepoint, Timepoint.PATIENT)
    return Visit(
        timepoint=tp, participant=participant, mode=Response.STAFF_CLINIC, user=request.user
    )


def _not_asked(request, participant, timepoint=None) -> bool:
    """A participant who died or withdrew is asked no questionnaire at a visit either, nor
    entered one on paper of a timepoint whose window opened after (``timepoint``): the
    staff hear why, on the participant's page."""
    if timepoint is not None and not due.ended_before(participant, timepoint):
        return False
    if participant.status == Participant.DIED:
        text = _("%(study_id)s died on %(date)s: no questionnaire is asked of them any more.")
        day = participant.died_on
    elif participant.status == Participant.WITHDRAWN:
        text = _("%(study_id)s withdrew on %(date)s: no questionnaire is asked of them any "
                 "more.")
        day = participant.withdrawn_on
    else:
        return False
    messages.warning(request, text % {"study_id": participant.study_id,
                                      "date": day.isoformat() if day else "?"})
    return True


def _confirmed_key(study_id: str, timepoint: str) -> str:
    return f"visit_outside_window:{study_id}:{timepoint}"


def _window(visit: Visit):
    window = due.visit_window(visit.timepoint, visit.participant.enrolled_on)
    return window, (window.state(trial_today(visit.trial)) if window else "open")


def _needs_confirmation(request, study_id: str, timepoint: str, state: str) -> bool:
    """Whether the staff must confirm, in this session, a visit before or after its window
    as the window's state is now."""
    return state in ("early", "late") and (
        request.session.get(_confirmed_key(study_id, timepoint)) != state
    )


@login_required
def visit_start(request, study_id, timepoint):
    """Before the tablet goes to the patient: a visit not due yet, or whose window has
    closed, needs the staff's confirmation (the answers would count for a timepoint months
    away, or outside its window). The tablet's pages are the patient's and show staff no
    message, so the confirmation is a page of its own; a finished or locked visit is not
    handed over at all."""
    visit = _staff_visit(request, study_id, timepoint)
    if _not_asked(request, visit.participant):
        return redirect("participant_detail", study_id=study_id)
    page = visit.first_open_page()
    if page > len(visit.instrument_codes):
        messages.info(
            request,
            _("This visit is finished; to change an answer, correct the form with a reason."),
        )
        return redirect("participant_detail", study_id=study_id)
    if _warn_if_locked(
        request, Response(participant=visit.participant, timepoint=visit.timepoint)
    ):
        # Not handed to the patient: every answer would be refused at the end, and the
        # visit's pages (the patient's) show staff no warning.
        return redirect("participant_detail", study_id=study_id)
    window, state = _window(visit)
    if _needs_confirmation(request, study_id, timepoint, state):
        if request.method == "POST" and request.POST.get(f"confirm_{state}"):
            request.session[_confirmed_key(study_id, timepoint)] = state
        else:
            return render(
                request,
                "questionnaires/visit_not_due.html",
                {
                    "participant": visit.participant,
                    "timepoint": visit.timepoint,
                    "window": window,
                    "state": state,
                },
            )
    return redirect("visit_page", study_id=study_id, timepoint=timepoint, page=page)


@login_required
def visit_page(request, study_id, timepoint, page):
    visit = _staff_visit(request, study_id, timepoint)
    if _not_asked(request, visit.participant):
        return redirect("participant_detail", study_id=study_id)
    # A page reached by its address skips no confirmation of an early visit (its answers
    # would count for a timepoint months away). A late one's answers carry the outside-
    # window flag whatever page they come from: its confirmation is the start's.
    state = _window(visit)[1]
    if state == "early" and _needs_confirmation(request, study_id, timepoint, state):
        return redirect("visit_start", study_id=study_id, timepoint=timepoint)
    if request.method == "GET" and _warn_if_locked(
        request, Response(participant=visit.participant, timepoint=visit.timepoint)
    ):
        return redirect("participant_detail", study_id=study_id)
    return run_visit_page(
        request,
        visit,
        page,
        lambda n: reverse("visit_page", args=[study_id, timepoint, n]),
        reverse("visit_done", args=[study_id, timepoint]),
    )


@login_required
def visit_done(request, study_id, timepoint):
    visit = _staff_visit(request, study_id, timepoint)
    with translation.override(visit.language):
        return render(
            request,
            "questionnaires/visit_done.html",
            {
                "later": bool(request.GET.get("later")),
                "timepoint_label": visit.timepoint.label_in(visit.language),
                "language": visit.language,
                "resume_url": reverse("visit_start", args=[study_id, timepoint]),
            },
        )


# --- a physiotherapist's own questionnaires (PCS, PABS-PT, DIBQ) ----------------------------


def _own_visit(request, trial: str, timepoint: str) -> Visit:
    from enrolment.models import Physiotherapist

    physio = (
        Physiotherapist.objects.filter(
            user=request.user, active=True, clinic__cluster__trial__code=trial
        )
        .select_related("clinic__cluster__trial")
        .first()
    )
    if physio is None:
        raise Http404
    tp = get_object_or_404(
        Timepoint, trial__code=trial, code=timepoint, respondent=Timepoint.PHYSIOTHERAPIST
    )
    return Visit(
        timepoint=tp, physiotherapist=physio, mode=Response.STAFF_CLINIC, user=request.user
    )


@login_required
def own_visit_page(request, trial, timepoint, page):
    visit = _own_visit(request, trial, timepoint)
    return run_visit_page(
        request,
        visit,
        page,
        lambda n: reverse("own_visit_page", args=[trial, timepoint, n]),
        reverse("own_visit_done", args=[trial, timepoint]),
    )


@login_required
def own_visit_done(request, trial, timepoint):
    visit = _own_visit(request, trial, timepoint)
    open_page = visit.first_open_page()
    unanswered = open_page <= len(visit.instrument_codes)
    if not unanswered:
        open_page = 1
    with translation.override(visit.language):
        return render(
            request,
            "questionnaires/visit_done.html",
            {
                # Reached by its address with questionnaires left: not "all answered".
                "later": bool(request.GET.get("later")) or unanswered,
                "timepoint_label": visit.timepoint.label_in(visit.language),
                "language": visit.language,
                "resume_url": reverse("own_visit_page", args=[trial, timepoint, open_page]),
                "own": True,  # on their own device: nothing to hand back
            },
        )
