"""Paper questionnaires typed in by staff, with double data entry: the second entry is
compared with the first, and a data manager decides each item where they differ.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from enrolment import permissions as roles
from enrolment.models import Timepoint
from questionnaires.services.double_entry import (
    compare_entries,
    next_entry_for,
    paper_entries,
    resolve_double_entry,
)
from questionnaires.services.saving import save_answers

from .. import reasons
from ..forms import InstrumentForm
from ..missing import REASONS
from ..missing import label as reason_label
from ..models import Response
from .common import (
    RESOLVERS,
    _editable_participant,
    _error_list,
    _instrument_or_404,
    _participant_for,
    _timepoint,
)
from .visits import _not_asked, _warn_if_locked

# --- paper entry and double data entry --------------------------------------------------


@login_required
def paper_entry(request, study_id, timepoint, instrument):
    participant = _editable_participant(request.user, study_id)
    tp = _timepoint(participant, timepoint, Timepoint.PATIENT)
    if instrument not in tp.instruments:
        raise Http404
    if _not_asked(request, participant, tp):
        return redirect("participant_detail", study_id=study_id)
    try:
        entry, response = next_entry_for(participant, tp, instrument, request.user)
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
    if request.method == "GET":
        # Before anything is typed: a lock refuses the saving at the end.
        _warn_if_locked(request, response or Response(participant=participant, timepoint=tp))
    if request.method == "POST":
        # A blank on paper is a missing answer: nothing is required, values are checked.
        form = InstrumentForm(
            definition, request.POST, require=False, reasons_for=reasons.STAFF
        )
        valid = form.is_valid()
        answers, missing = form.merged(saved, saved_missing)
        try:
            response = save_answers(
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
    entries = paper_entries(participant, tp, definition.code)
    first, second = entries.get(Response.FIRST_ENTRY), entries.get(Response.SECOND_ENTRY)
    if not (first and second and first.is_complete and second.is_complete):
        return
    differences = compare_entries(first, second)
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
    entries = paper_entries(participant, tp, instrument)
    first, second = entries.get(Response.FIRST_ENTRY), entries.get(Response.SECOND_ENTRY)
    final = Response.objects.filter(
        participant=participant, timepoint=tp, instrument=instrument, entry=Response.FINAL
    ).first()
    ready = bool(first and second and first.is_complete and second.is_complete)
    differences = compare_entries(first, second) if ready else []
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
                resolve_double_entry(first, second, decisions, request.user)
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
            # What the resolver chose and typed stays on the page when it comes back with
            # an error (a walk found every choice cleared for one missing reason).
            "rows": [
                {
                    "d": d,
                    "choice": request.POST.get(f"choice_{d.item.id}", ""),
                    "value": request.POST.get(f"value_{d.item.id}", ""),
                    "reason": request.POST.get(f"reason_{d.item.id}", ""),
                }
                for d in differences
            ],
            "may_resolve": may_resolve,
            "errors": errors,
            "reasons": [(code, reason_label(code)) for code in REASONS],
        },
    )
