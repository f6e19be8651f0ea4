"""Consent pages: the trial's re-consent list, a participant's consent (history, record a
re-consent or its refusal, start an electronic consent), the electronic consent the
participant signs (clinic tablet or link, no login), its PDF and the identity check,
and the interview candidates. Logic lives in :mod:`enrolment.consent`."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from enrolment import permissions as roles

from .consent.electronic import (
    confirm_electronic,
    find_electronic,
    items_shown,
    sign_electronic,
    start_electronic,
)
from .consent.reading import (
    INTERVIEW_CONTACT,
    awaiting_reconsent,
    awaits_reconsent,
    documents_of,
    held_ids,
    is_held,
    item_for_effect,
    policy_of,
    required_document,
)
from .consent.reading import (
    history as consent_history,
)
from .consent.reading import (
    interview_candidates as consented_interview_candidates,
)
from .consent.writing import _document, record_reconsent, record_refusal
from .models import ConsentRecord, ElectronicConsent, Participant
from .templatetags.consent_tags import consent_item_label
from .views_enrol import trial_today


def not_available_now(request, language: str):
    """What a held participant sees instead of a questionnaire: neutral, no reason."""
    with translation.override(language):
        return render(request, "enrolment/consent/not_available_now.html", {"language": language})


def _trial(user, code: str):
    return get_object_or_404(roles.trials_of(user), code=code)


def _participant(user, study_id: str) -> Participant:
    participant = get_object_or_404(
        Participant.objects.visible_to(user).select_related("trial", "clinic__cluster"),
        study_id=study_id,
    )
    if not roles.can_edit(user, participant):
        raise PermissionDenied
    return participant


class ReconsentForm(forms.Form):
    version = forms.ChoiceField(label=gettext_lazy("Consent version"))
    given_on = forms.DateField(
        label=gettext_lazy("Date of the re-consent"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        docs = documents_of(participant.trial)
        self.fields["version"].choices = [(d.version, d.version) for d in docs]
        policy = policy_of(participant.trial)
        # The labels in the page's language (the staff member's), English when the file
        # has none in it.
        for code, label in _item_labels(policy, translation.get_language() or "en"):
            self.fields[f"item_{code}"] = forms.BooleanField(
                label=label, required=False, help_text=_("Only if the version asks it.")
            )

    def answers(self, document) -> dict:
        return {code: self.cleaned_data.get(f"item_{code}", False) for code in document.items}


class RefusalForm(forms.Form):
    version = forms.ChoiceField(label=gettext_lazy("Consent version refused"))
    refused_on = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("What happens now"), choices=ConsentRecord.OUTCOMES
    )
    reason = forms.CharField(
        label=gettext_lazy("What the participant said"), widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [
            (d.version, d.version) for d in documents_of(participant.trial)
        ]


def _item_labels(policy, language: str) -> list[tuple[str, str]]:
    if policy is None:
        return []
    return [
        (
            i["code"],
            i["label"].get(language)
            or i["label"].get("en")
            or next(iter(i["label"].values()), i["code"]),
        )
        for i in policy.items
    ]


def _label_of(trial, code: str | None) -> str | None:
    """The item's label in the page's language (None: the trial asks no such item)."""
    return code and consent_item_label(policy_of(trial), code)


@login_required
def reconsent_list(request, code):
    trial = _trial(request.user, code)
    visible = Participant.objects.visible_to(request.user)
    policy = policy_of(trial)
    waiting = awaiting_reconsent(trial, visible)
    held = held_ids(waiting)
    return render(
        request,
        "enrolment/consent/reconsent_list.html",
        {
            "trial": trial,
            "policy": policy,
            "documents": documents_of(trial),
            # The button only for whoever may record it (not a monitor or a statistician).
            "rows": [(p, p.pk in held, roles.can_edit(request.user, p)) for p in waiting],
        },
    )


def _participant_page(request, participant, reconsent_form=None, refusal_form=None):
    trial = participant.trial
    policy = policy_of(trial)
    required = required_document(trial)
    today = trial_today(trial)
    initial = {"version": required.version if required else "", "given_on": today}
    return render(
        request,
        "enrolment/consent/participant.html",
        {
            "participant": participant,
            "trial": trial,
            "policy": policy,
            "required": required,
            "records": consent_history(participant),
            "awaits": awaits_reconsent(participant),
            "held": is_held(participant),
            "electronic": ElectronicConsent.objects.filter(participant=participant),
            "sees_names": roles.can_see_personal_details(request.user, participant),
            "reconsent_form": reconsent_form
            or ReconsentForm(participant=participant, initial=initial),
            "refusal_form": refusal_form
            or RefusalForm(
                participant=participant,
                initial={"version": initial["version"], "refused_on": today},
            ),
        },
        status=400 if (reconsent_form or refusal_form) else 200,
    )


@login_required
def participant_consent(request, study_id):
    participant = _participant(request.user, study_id)
    if request.method != "POST":
        return _participant_page(request, participant)
    action = request.POST.get("action")
    try:
        if action == "reconsent":
            form = ReconsentForm(request.POST, participant=participant)
            if not form.is_valid():
                return _participant_page(request, participant, reconsent_form=form)
            doc = _document(participant.trial, form.cleaned_data["version"])
            try:
                record_reconsent(
                    participant,
                    version=doc.version,
                    given_on=form.cleaned_data["given_on"],
                    answers=form.answers(doc),
                    user=request.user,
                    note=form.cleaned_data["note"],
                    today=trial_today(participant.trial),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
                return _participant_page(request, participant, reconsent_form=form)
            messages.success(request, _("Re-consent recorded."))
        elif action == "refusal":
            form = RefusalForm(request.POST, participant=participant)
            if not form.is_valid():
                return _participant_page(request, participant, refusal_form=form)
            try:
                record_refusal(
                    participant,
                    version=form.cleaned_data["version"],
                    refused_on=form.cleaned_data["refused_on"],
                    outcome=form.cleaned_data["outcome"],
                    reason=form.cleaned_data["reason"],
                    user=request.user,
                    today=trial_today(participant.trial),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
                return _participant_page(request, participant, refusal_form=form)
            messages.success(request, _("Refusal recorded."))
        elif action in ("tablet", "link"):
            ec, token = start_electronic(participant, request.user)
            url = reverse("electronic_consent", args=[token])
            if action == "tablet":
                return redirect(url)
            messages.info(
                request,
                _("Give the participant this link (it is shown only now): %(url)s")
                % {"url": request.build_absolute_uri(url)},
            )
        elif action == "confirm":
            ec = get_object_or_404(
                ElectronicConsent, pk=request.POST.get("electronic"), participant=participant
            )
            confirm_electronic(ec, request.user, today=trial_today(participant.trial))
            messages.success(request, _("Identity confirmed: the electronic consent counts."))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("participant_consent", study_id=participant.study_id)


@login_required
def electronic_pdf(request, study_id, pk):
    participant = _participant(request.user, study_id)
    if not roles.can_see_personal_details(request.user, participant):
        raise PermissionDenied  # the PDF shows the name the participant typed
    ec = get_object_or_404(ElectronicConsent, pk=pk, participant=participant, pdf__isnull=False)
    response = HttpResponse(bytes(ec.pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="consent-{participant.study_id}-{ec.document.version}-{ec.pk}.pdf"'
    )
    return response


@never_cache
def electronic_consent(request, token):
    """The participant's page: read, tick each item or not, type the name, sign."""
    ec = find_electronic(token)
    if ec is None or ec.participant.status != Participant.ACTIVE:
        return not_available_now(request, translation.get_language() or "en")
    wanted = request.GET.get("lang")
    if ec.signed_at is None and wanted in ec.document.languages and wanted != ec.language:
        ec.language = wanted
        ec.save(update_fields=["language"])
    items = items_shown(ec)
    error = ""
    if request.method == "POST" and ec.signed_at is None:
        answers = {code: request.POST.get(f"item_{code}") == "yes" for code, _label in items}
        name = " ".join(request.POST.get("signed_name", "").split())
        if len(name) >= 2:
            sign_electronic(ec, name, answers)
            return redirect("electronic_consent", token=token)
        with translation.override(ec.language):
            error = _("Type your full name to sign.")
        # Shown again as answered: nothing the participant ticked is lost.
        ec.answers, ec.signed_name = answers, name
    with translation.override(ec.language):
        return render(
            request,
            "enrolment/consent/electronic.html",
            {
                "ec": ec,
                "language": ec.language,
                "paragraphs": ec.document.text_in(ec.language).split("\n\n"),
                "items": [(code, label, ec.answers.get(code)) for code, label in items],
                "error": error,
            },
            status=400 if error else 200,
        )


@login_required
def interview_candidates(request, code):
    """Participants who may be contacted for an interview (the base of an interview
    selection): their study IDs and clinics; names are on each participant's page."""
    trial = _trial(request.user, code)
    if not roles.has_any(request.user, trial, roles.EDIT):
        raise PermissionDenied
    rows = consented_interview_candidates(trial, Participant.objects.visible_to(request.user))
    return render(
        request,
        "enrolment/consent/interview_candidates.html",
        {
            "trial": trial,
            "rows": rows,
            "item": _label_of(trial, item_for_effect(trial, INTERVIEW_CONTACT)),
        },
    )
