"""Pages of the paper app: the post tray ("post today"), pack PDFs, scan uploads and the
verification of what was read. Thin: the work is in posting, printing and scanning."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from enrolment import permissions as roles
from enrolment.models import Participant, Timepoint, Trial
from questionnaires import reasons
from questionnaires.forms import InstrumentForm
from questionnaires.instruments import get

from . import images, omr, posting, printing, scanning
from .models import ScanPage

MAX_UPLOAD = 200 * 1024 * 1024


def _trial(user, code: str) -> Trial:
    return get_object_or_404(roles.trials_of(user), code=code)


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- post tray ---------------------------------------------------------------------------


@login_required
def post_today(request, code):
    trial = _trial(request.user, code)
    if not posting.may_post(request.user, trial):
        raise PermissionDenied
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("message") if i.isdigit()]
        if not ids:
            messages.error(request, _("Choose the packs that went into the post."))
        else:
            try:
                n = posting.mark_posted(request.user, trial, ids)
                messages.success(request, _("%(n)s pack(s) marked as posted.") % {"n": n})
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
        return redirect("paper:post_today", code=trial.code)
    return render(
        request,
        "paper/post_today.html",
        {
            "trial": trial,
            "tray": posting.tray(request.user, trial),
            "held": posting.held_in_tray(request.user, trial),
            "may_scan": scanning.may_scan(request.user, trial),
        },
    )


@login_required
def tray_pdf(request, code):
    trial = _trial(request.user, code)
    tray = posting.tray(request.user, trial)
    chosen = [int(i) for i in request.GET.getlist("message") if i.isdigit()]
    if chosen:
        tray = tray.filter(pk__in=chosen)
        held = [m for m in posting.held_in_tray(request.user, trial) if m.pk in chosen]
        if held and not tray.exists():
            messages.error(request, posting.held_reason(held[0].contact.participant))
            return redirect("paper:post_today", code=trial.code)
    if not tray.exists():
        messages.error(request, _("The post tray is empty."))
        return redirect("paper:post_today", code=trial.code)
    return _pdf(posting.print_tray(request.user, tray), f"{trial.code}-post-packs.pdf")


@login_required
def pack_pdf(request, study_id, timepoint):
    """The pack of any participant's timepoint, for printing by hand."""
    participant = get_object_or_404(
        Participant.objects.visible_to(request.user).select_related("trial"), study_id=study_id
    )
    if not posting.may_post(request.user, participant.trial):
        raise PermissionDenied
    tp = get_object_or_404(
        Timepoint, trial=participant.trial, code=timepoint, respondent=Timepoint.PATIENT
    )
    try:
        posting.refuse_held(participant)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("participant_detail", participant.study_id)
    printed = printing.pack_for(participant, tp, user=request.user)
    return _pdf(printing.render([printed]), f"{study_id}-{tp.code}-pack.pdf")


# --- scanned returns -----------------------------------------------------------------------


@login_required
def scans(request, code):
    trial = _trial(request.user, code)
    if not scanning.may_scan(request.user, trial):
        raise PermissionDenied
    if request.method == "POST":
        upload = request.FILES.get("scan")
        if upload is None:
            messages.error(request, _("Choose the scanned file (PDF or images)."))
        elif upload.size > MAX_UPLOAD:
            messages.error(request, _("The file is larger than 200 MB: upload it in parts."))
        else:
            try:
                batch = scanning.read_upload(trial, request.user, upload.read())
            except (images.UploadError, ValidationError) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(request, _("%(n)s page(s) read.") % {"n": batch.pages})
                return redirect("paper:batch", code=trial.code, pk=batch.pk)
        return redirect("paper:scans", code=trial.code)
    entries = scanning.entries_visible_to(request.user, trial).select_related(
        "participant", "timepoint", "batch"
    )
    return render(
        request,
        "paper/scans.html",
        {
            "trial": trial,
            "batches": scanning.batches_visible_to(request.user, trial)[:50],
            "pending": entries.filter(status="pending"),
            "unmatched": ScanPage.objects.filter(
                batch__in=scanning.batches_visible_to(request.user, trial),
                status=ScanPage.UNMATCHED,
            ).select_related("batch"),
        },
    )


@login_required
def batch(request, code, pk):
    trial = _trial(request.user, code)
    found = get_object_or_404(scanning.batches_visible_to(request.user, trial), pk=pk)
    return render(
        request,
        "paper/batch.html",
        {
            "trial": trial,
            "batch": found,
            "pages": found.scan_pages.select_related("pack__participant").defer("image", "aligned"),
            "entries": found.entries.select_related("participant", "timepoint"),
        },
    )


@login_required
def page_image(request, code, pk):
    trial = _trial(request.user, code)
    page = get_object_or_404(
        ScanPage, pk=pk, batch__in=scanning.batches_visible_to(request.user, trial)
    )
    data = page.aligned if request.GET.get("as") == "aligned" and page.aligned else page.image
    response = HttpResponse(bytes(data), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def entry(request, code, pk):
    """The form as read beside the scanned pages: flagged items marked; the data manager
    corrects, types handwriting, and verifies."""
    trial = _trial(request.user, code)
    found = get_object_or_404(
        scanning.entries_visible_to(request.user, trial).select_related(
            "participant", "timepoint", "pack"
        ),
        pk=pk,
    )
    instrument = get(found.instrument, found.version)
    # Every item may be left missing with a reason, as in paper entry: a flagged item the
    # scan does not settle must be given a value or the reason it has none.
    if request.method == "POST" and found.status == found.PENDING:
        form = InstrumentForm(instrument, request.POST, require=False, reasons_for=reasons.STAFF)
        if form.is_valid():
            answers, missing = form.merged({}, {})
            try:
                response = scanning.verify_entry(found, answers, request.user, missing=missing)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                if response.entry == response.FINAL:
                    messages.success(request, _("Paper entry verified and saved."))
                else:  # the first of two entries: say that a second person is needed
                    messages.success(request, _(
                        "Paper entry verified and saved as entry %(n)s of the double data "
                        "entry: another person enters the form from the paper, then the two "
                        "are compared."
                    ) % {"n": response.entry})
                return redirect("paper:scans", code=trial.code)
    else:
        form = InstrumentForm(instrument, answers=found.answers, require=False,
                              reasons_for=reasons.STAFF)
    # item id, its number and wording as on the form, and why it is flagged
    flags = [
        (item.id, f"{number}. {form.fields[item.id].label}", _(omr.FLAG_LABELS[flag]))
        for number, item in enumerate(instrument.items, start=1)
        if (flag := found.flags.get(item.id))
    ]
    return render(
        request,
        "paper/entry.html",
        {
            "trial": trial,
            "entry": found,
            "instrument": instrument,
            "form": form,
            "flags": flags,
            "pages": scanning.pages_of_entry(found).defer("image", "aligned"),
        },
    )
