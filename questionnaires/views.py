"""Questionnaire pages.

- The visit (patient-facing): one instrument per page, Back / Next / Save and continue
  later. :func:`run_visit_page` holds the logic and takes a :class:`services.Visit`, so a
  token link without login can reuse it; :func:`visit_page` is the staff entry ("hand the
  tablet to the patient"). Patient pages use ``questionnaires/patient_base.html`` only and
  never receive the participant's condition, cluster or arm.
- Paper entry by staff, with double data entry compared and resolved by a data manager.
- The CRPE-tool, filled in by the physiotherapist at the first and the final visit.

Participants are fetched through ``Participant.objects.visible_to(user)``: 404 elsewhere.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from enrolment import consent, consent_views, guards, tags
from enrolment import permissions as roles
from enrolment.models import Participant, Timepoint
from enrolment.views_enrol import trial_today

from . import due, reasons, services
from .forms import InstrumentForm, ReasonForm
from .instruments import for_trial, get
from .instruments.definitions import crpe
from .missing import REASONS
from .missing import label as reason_label
from .models import Response

RESOLVERS = roles.RESOLVERS


def _participant_for(user, study_id: str) -> Participant:
    return get_object_or_404(
        Participant.objects.visible_to(user).select_related("trial", "clinic__cluster"),
        study_id=study_id,
    )


def _editable_participant(user, study_id: str) -> Participant:
    participant = _participant_for(user, study_id)
    if not roles.can_edit(user, participant):
        raise PermissionDenied
    return participant


def _timepoint(participant: Participant, code: str, respondent: str) -> Timepoint:
    return get_object_or_404(
        Timepoint, trial=participant.trial_id, code=code, respondent=respondent
    )


def _instrument_or_404(code: str, version: int | None = None, trial=None):
    try:
        return for_trial(trial, code) if version is None and trial else get(code, version)
    except KeyError:
        raise Http404 from None


def _error_list(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{k}: {m}" for k, msgs in exc.message_dict.items() for m in msgs]
    return exc.messages


# --- the visit, page by page -----------------------------------------------------------


def _save_page(form, valid: bool, kwargs: dict):
    """Save a page; (response, still valid). The same page sent again from another tab
    a moment earlier, with other answers, completed the response in between: the
    respondent sees their entry again with a word on why, and nothing is lost."""
    try:
        return services.save_answers(**kwargs), valid
    except guards.WriteRefused as exc:
        # Locked data (data management): staff read why; a patient on a link is told
        # plainly, without the staff's names.
        if getattr(kwargs.get("user"), "is_authenticated", False):
            form.add_error(None, exc.messages)
        else:
            form.add_error(None, _("These answers can no longer be changed."))
        return kwargs["response"], False
    except services.ResponseError:
        form.add_error(
            None,
            _(
                "These answers were saved a moment ago from another window. "
                "Check them and send again to keep what you see now."
            ),
        )
        return kwargs["response"], False


def run_visit_page(request, visit: services.Visit, page: int, page_url, done_url: str):
    """Show or save page ``page`` (1-based) of ``visit``.

    ``page_url(n)`` gives the URL of page n. Buttons: "back" and "save_later" save what is
    valid without requiring answers; "next" requires the required items, saves the valid
    answers even when some are wrong, and moves on only when the page is complete.
    """
    if visit.participant is not None and consent.is_held(visit.participant):
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
    wording = services.wording_for(visit.trial, instrument, language)
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


def _finished_message(visit: services.Visit, response) -> str:
    return _(
        "This visit is finished. A change now is a correction: use the correction "
        "page of the form and give your reason."
    )


def _warn_if_locked(request, instance) -> bool:
    """Say on a page when what it would change is locked (data management's lock)."""
    try:
        guards.check(instance, "save")
    except guards.WriteRefused as exc:
        messages.warning(request, " ".join(exc.messages))
        return True
    return False


def _staff_visit(request, study_id: str, timepoint: str) -> services.Visit:
    participant = _editable_participant(request.user, study_id)
    tp = _timepoint(participant, timepoint, Timepoint.PATIENT)
    return services.Visit(
        timepoint=tp, participant=participant, mode=Response.STAFF_CLINIC, user=request.user
    )


def _early_key(study_id: str, timepoint: str) -> str:
    return f"early_visit:{study_id}:{timepoint}"


def _window(visit: services.Visit):
    window = due.visit_window(visit.timepoint, visit.participant.enrolled_on)
    return window, (window.state(trial_today(visit.trial)) if window else "open")


@login_required
def visit_start(request, study_id, timepoint):
    """Before the tablet goes to the patient: a visit not due yet needs the staff's
    confirmation (the answers would count for a timepoint months away)."""
    visit = _staff_visit(request, study_id, timepoint)
    window, state = _window(visit)
    if state == "early" and not request.session.get(_early_key(study_id, timepoint)):
        if request.method == "POST" and request.POST.get("confirm_early"):
            request.session[_early_key(study_id, timepoint)] = True
        else:
            return render(
                request,
                "questionnaires/visit_not_due.html",
                {"participant": visit.participant, "timepoint": visit.timepoint, "window": window},
            )
    if state == "late":
        messages.warning(
            request,
            _("The window of %(label)s closed on %(closes)s (it was %(opens)s to %(closes)s).")
            % {
                "label": visit.timepoint.staff_label,
                "opens": window.opens,
                "closes": window.closes,
            },
        )
    page = visit.first_open_page()
    if page > len(visit.instrument_codes):
        messages.info(
            request,
            _("This visit is finished; to change an answer, correct the form with a reason."),
        )
        return redirect("participant_detail", study_id=study_id)
    _warn_if_locked(
        request, Response(participant=visit.participant, timepoint=visit.timepoint)
    )
    return redirect("visit_page", study_id=study_id, timepoint=timepoint, page=page)


@login_required
def visit_page(request, study_id, timepoint, page):
    visit = _staff_visit(request, study_id, timepoint)
    # A page reached by its address skips no confirmation.
    if _window(visit)[1] == "early" and not request.session.get(_early_key(study_id, timepoint)):
        return redirect("visit_start", study_id=study_id, timepoint=timepoint)
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


def _own_visit(request, trial: str, timepoint: str) -> services.Visit:
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
    return services.Visit(
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
    if open_page > len(visit.instrument_codes):
        open_page = 1
    with translation.override(visit.language):
        return render(
            request,
            "questionnaires/visit_done.html",
            {
                "later": bool(request.GET.get("later")),
                "timepoint_label": visit.timepoint.label_in(visit.language),
                "language": visit.language,
                "resume_url": reverse("own_visit_page", args=[trial, timepoint, open_page]),
            },
        )


# --- paper entry and double data entry --------------------------------------------------


@login_required
def paper_entry(request, study_id, timepoint, instrument):
    participant = _editable_participant(request.user, study_id)
    tp = _timepoint(participant, timepoint, Timepoint.PATIENT)
    if instrument not in tp.instruments:
        raise Http404
    try:
        entry, response = services.next_entry_for(participant, tp, instrument, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(
            "paper_compare", study_id=study_id, timepoint=timepoint, instrument=instrument
        )
    definition = (
        response.definition() if response else _instrument_or_404(instrument, trial=tp.trial)
    )
    saved = response.answers if response else {}
    saved_missing = response.missing if response else {}
    if request.method == "POST":
        # A blank on paper is a missing answer: nothing is required, values are checked.
        form = InstrumentForm(
            definition, request.POST, require=False, reasons_for=reasons.STAFF
        )
        valid = form.is_valid()
        answers, missing = form.merged(saved, saved_missing)
        try:
            response = services.save_answers(
                instrument=definition,
                timepoint=tp,
                answers=answers,
                complete=valid and request.POST.get("action") != "save_later",
                mode=Response.STAFF_PAPER,
                user=request.user,
                participant=participant,
                entry=entry,
                language=participant.trial.default_language,
                response=response,
                missing=missing,
            )
        except ValidationError as exc:  # a lock (guards.WriteRefused) included
            form.add_error(None, _error_list(exc))
            valid = False
        if valid:
            messages.success(
                request,
                _("Paper entry %(n)s of %(instrument)s saved.")
                % {"n": entry, "instrument": definition.name},
            )
            _say_how_entries_compare(request, participant, tp, definition)
            return redirect("participant_detail", study_id=study_id)
    else:
        form = InstrumentForm(
            definition,
            answers=saved,
            missing=saved_missing,
            require=False,
            reasons_for=reasons.STAFF,
        )
    return render(
        request,
        "questionnaires/staff_form.html",
        {
            "participant": participant,
            "form": form,
            "title": _("Paper form: %(instrument)s, %(timepoint)s, entry %(n)s")
            % {"instrument": definition.name, "timepoint": tp.staff_label, "n": entry},
            "can_save_later": True,
            "queried": (tp.code, definition.code),
        },
    )


def _say_how_entries_compare(request, participant, tp, definition) -> None:
    """Once both paper entries are complete, whether they agree, with a link to the
    comparison: a typist who just made the second entry learns it disagrees at once."""
    entries = services.paper_entries(participant, tp, definition.code)
    first, second = entries.get(Response.FIRST_ENTRY), entries.get(Response.SECOND_ENTRY)
    if not (first and second and first.is_complete and second.is_complete):
        return
    differences = services.compare_entries(first, second)
    url = reverse("paper_compare", args=[participant.study_id, tp.code, definition.code])
    if differences:
        text = ngettext(
            "The two entries differ in %(n)s item",
            "The two entries differ in %(n)s items",
            len(differences),
        ) % {"n": len(differences)}
        messages.warning(
            request,
            format_html(
                '{}: {}. <a href="{}" id="compare-link">{}</a>',
                text,
                ", ".join(d.item.id for d in differences),
                url,
                _("Compare the entries"),
            ),
        )
    else:
        messages.info(
            request,
            format_html(
                '{} <a href="{}" id="compare-link">{}</a>',
                _("The two entries agree."),
                url,
                _("Compare the entries"),
            ),
        )


def _decision_value(item, raw: str):
    """A data manager's typed value for one item, as an answer (JSON for lists)."""
    raw = (raw or "").strip()
    if raw == "":
        return None
    if raw.lstrip("-").isdigit() and int(raw) in REASONS:
        return int(raw)  # a reason for missing, for an item of any kind
    if item.kind in ("text", "date"):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise ValidationError(_("%(item)s: not a valid value") % {"item": item.id}) from None


@login_required
def paper_compare(request, study_id, timepoint, instrument):
    participant = _participant_for(request.user, study_id)
    tp = _timepoint(participant, timepoint, Timepoint.PATIENT)
    entries = services.paper_entries(participant, tp, instrument)
    first, second = entries.get(Response.FIRST_ENTRY), entries.get(Response.SECOND_ENTRY)
    final = Response.objects.filter(
        participant=participant, timepoint=tp, instrument=instrument, entry=Response.FINAL
    ).first()
    ready = bool(first and second and first.is_complete and second.is_complete)
    differences = services.compare_entries(first, second) if ready else []
    may_resolve = roles.has_any(request.user, participant.trial, RESOLVERS)
    errors: list[str] = []
    if request.method == "POST":
        if not (may_resolve and ready) or final is not None:
            raise PermissionDenied
        decisions = {}
        for d in differences:
            choice = request.POST.get(f"choice_{d.item.id}", "")
            reason = request.POST.get(f"reason_{d.item.id}", "")
            try:
                if choice == "first":
                    value = d.first
                elif choice == "second":
                    value = d.second
                elif choice == "other":
                    value = _decision_value(d.item, request.POST.get(f"value_{d.item.id}"))
                else:
                    errors.append(
                        _("%(item)s: choose entry 1, entry 2 or a value.") % {"item": d.item.id}
                    )
                    continue
            except ValidationError as exc:
                errors.extend(exc.messages)
                continue
            decisions[d.item.id] = (value, reason)
        if not errors:
            try:
                services.resolve_double_entry(first, second, decisions, request.user)
            except ValidationError as exc:
                errors.extend(_error_list(exc))
            else:
                messages.success(request, _("The final response was saved."))
                return redirect("participant_detail", study_id=study_id)
    return render(
        request,
        "questionnaires/compare.html",
        {
            "participant": participant,
            "timepoint": tp,
            "instrument": _instrument_or_404(instrument, first.version if first else None),
            "first": first,
            "second": second,
            "final": final,
            "ready": ready,
            "differences": differences,
            "may_resolve": may_resolve,
            "errors": errors,
            "post": request.POST,
            "reasons": [(code, reason_label(code)) for code in REASONS],
        },
    )


# --- corrections of a saved response ----------------------------------------------------


@login_required
def response_correct(request, pk):
    response = get_object_or_404(Response.objects.select_related("participant"), pk=pk)
    if response.participant_id is None:
        raise Http404
    participant = _editable_participant(request.user, response.participant.study_id)
    definition = response.definition()
    if request.method == "GET":
        _warn_if_locked(request, response)
    form = InstrumentForm(
        definition,
        request.POST or None,
        answers=response.answers,
        missing=response.missing,
        require=False,
        reasons_for=reasons.STAFF,
    )
    reason_form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and reason_form.is_valid():
        answers, missing = form.merged(response.answers, response.missing)
        try:
            services.correct_response(
                response, answers, reason_form.cleaned_data["reason"], request.user, missing
            )
        except ValidationError as exc:
            form.add_error(None, _error_list(exc))
        else:
            messages.success(request, _("The correction was saved."))
            return redirect("participant_detail", study_id=participant.study_id)
    return render(
        request,
        "questionnaires/staff_form.html",
        {
            "participant": participant,
            "form": form,
            "reason_form": reason_form,
            "title": _("Correct %(response)s") % {"response": response},
            "queried": (response.timepoint.code, response.instrument),
        },
    )


# --- the CRPE-tool -------------------------------------------------------------------------

CRPE_FIRST, CRPE_FINAL = "first-visit", "final-visit"  # protocol tags (enrolment.tags)


@login_required
def crpe_form(request, study_id, timepoint):
    participant = _editable_participant(request.user, study_id)
    tp = _timepoint(participant, timepoint, Timepoint.CLINICIAN)
    if "crpe" not in tp.instruments:
        raise Http404
    response = Response.objects.filter(
        participant=participant, timepoint=tp, instrument="crpe", entry=Response.FINAL
    ).first()
    definition = response.definition() if response else get("crpe")
    saved = response.answers if response else {}
    hide: tuple[str, ...] = ()
    notes: dict[str, str] = {}
    if CRPE_FINAL in tp.tags:
        notes = _first_visit_notes(participant, definition)
    else:
        hide = crpe.FINAL_VISIT_ITEMS  # recorded at the final assessment only
    kwargs = {"hide": hide, "notes": notes, "require": True}
    if request.method == "POST":
        form = InstrumentForm(definition, request.POST, **kwargs)
        valid = form.is_valid()
        if valid:
            # Cross-field check of the form: the ICD-10 codes of the chosen category's row.
            for message in crpe.icd10_matches_category(form.valid_answers()):
                form.add_error("icd10", message)
            valid = not form.errors
        if valid:
            reason = ReasonForm(request.POST)
            try:
                services.save_answers(
                    instrument=definition,
                    timepoint=tp,
                    answers=form.merged_answers(saved),
                    complete=True,
                    mode=Response.STAFF_CLINIC,
                    user=request.user,
                    participant=participant,
                    language=request.LANGUAGE_CODE,
                    response=response,
                    reason=reason.data.get("reason", ""),
                )
            except ValidationError as exc:
                form.add_error(None, _error_list(exc))
            else:
                messages.success(request, _("The CRPE-tool was saved."))
                return redirect("participant_detail", study_id=study_id)
    else:
        form = InstrumentForm(definition, answers=saved, **kwargs)
    return render(
        request,
        "questionnaires/staff_form.html",
        {
            "participant": participant,
            "form": form,
            "title": f"{definition.name}: {tp.staff_label}",
            "reason_form": ReasonForm() if response and response.is_complete else None,
            "form_id": "crpe-form",
            "queried": (tp.code, definition.code),
        },
    )


def _first_visit_notes(participant, definition) -> dict[str, str]:
    first = Response.objects.filter(
        participant=participant,
        timepoint=tags.timepoint(participant.trial, CRPE_FIRST),
        instrument="crpe",
        entry=Response.FINAL,
    ).first()
    if first is None:
        return {}
    notes = {}
    for item_id, grade in crpe.first_visit_grades(first.answers).items():
        label = {c.code: c.label for c in definition.item(item_id).choices}.get(grade, "")
        notes[item_id] = _("First visit: %(grade)s %(label)s") % {"grade": grade, "label": label}
    return notes
