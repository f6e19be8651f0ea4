"""The trial's protocol versions: the list, and each version's diff, consequences and file.

A version stores its diff and consequences as the load wrote them (English, as the
command line prints them); the page shows them in the reader's language: the words
around the file's own keys and codes, which stay as the file spells them."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .views import _trial_for

CHANGES = {
    "added": gettext_lazy("added"),
    "removed": gettext_lazy("removed"),
    "changed": gettext_lazy("changed"),
}
ACTIONS = {
    "planned": gettext_lazy("planned"),
    "cancelled": gettext_lazy("cancelled"),
    "re-planned": gettext_lazy("re-planned"),
    "carried over": gettext_lazy("carried over"),
    "asked the new list": gettext_lazy("asked the new list"),
    "kept as planned": gettext_lazy("kept as planned"),
    "listed for re-consent": gettext_lazy("listed for re-consent"),
}
NOT_PLANNED = re.compile(r"^(\d+) not planned: their date has passed$")
SENT_KEEP = re.compile(r"^(\d+) invitation\(s\) already sent keep the list they were sent with$")


def note_text(note: str) -> str:
    if m := NOT_PLANNED.match(note):
        n = int(m[1])
        return ngettext(
            "%(n)d not planned: their date has passed",
            "%(n)d not planned: their date has passed",
            n,
        ) % {"n": n}
    if m := SENT_KEEP.match(note):
        n = int(m[1])
        return ngettext(
            "%(n)d invitation already sent keeps the list it was sent with",
            "%(n)d invitations already sent keep the list they were sent with",
            n,
        ) % {"n": n}
    return _(note)  # the fixed notes are marked for translation where they are written


def consequence_line(c: dict) -> str:
    """One stored consequence in the reader's language (as ``consequence_text`` in English)."""
    action = ACTIONS.get(c.get("action", ""), c.get("action", ""))
    if "contacts" not in c:  # a change that reaches participants, not their contacts
        n = c.get("participants", 0)
        text = ngettext(
            "%(change)s: %(n)d participant %(action)s",
            "%(change)s: %(n)d participants %(action)s",
            n,
        ) % {"change": c["change"], "n": n, "action": action}
        return text + (f"; {note_text(c['note'])}" if c.get("note") else "")
    contacts = c.get("contacts", 0)
    text = ngettext(
        "%(change)s: %(n)d contact %(action)s",
        "%(change)s: %(n)d contacts %(action)s",
        contacts,
    ) % {"change": c["change"], "n": contacts, "action": action}
    who = []
    if c.get("participants"):
        n = c["participants"]
        who.append(ngettext("%(n)d participant", "%(n)d participants", n) % {"n": n})
    if c.get("physiotherapists"):
        n = c["physiotherapists"]
        who.append(ngettext("%(n)d physiotherapist", "%(n)d physiotherapists", n) % {"n": n})
    if who:
        text += f" ({', '.join(who)})"
    if c.get("note"):
        text += f"; {note_text(c['note'])}"
    return text


@login_required
def protocol_versions(request, code):
    trial = _trial_for(request.user, code)
    versions = trial.protocol_versions.select_related("loaded_by").order_by("-number")
    return render(
        request, "enrolment/protocol_versions.html", {"trial": trial, "versions": versions}
    )


@login_required
def protocol_version(request, code, number):
    trial = _trial_for(request.user, code)
    version = get_object_or_404(trial.protocol_versions.select_related("loaded_by"), number=number)
    diff = [{**c, "change": CHANGES.get(c.get("change"), c.get("change"))} for c in version.diff]
    return render(
        request,
        "enrolment/protocol_version.html",
        {
            "trial": trial,
            "version": version,
            "diff": diff,
            "consequences": [consequence_line(c) for c in version.consequences],
            "participants": trial.participants.filter(protocol_version=version).count(),
            "removed_timepoints": trial.timepoints.filter(removed_in=version),
        },
    )
