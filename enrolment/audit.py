"""A participant's audit trail, read from simple-history's tables.

Each history row is a snapshot; consecutive snapshots of the same object give the old and
new value of every field that changed. Other apps add their audited models (responses,
CRPE forms) through :data:`PARTICIPANT_HISTORY_SOURCES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

# English in the data (the API and the casebook bundle carry it); the audit trail page
# translates both the action and the record's name (gettext_noop: extracted, not translated).
TYPES = {"+": N_("created"), "~": N_("changed"), "-": N_("deleted")}
# Who made a change no staff member made; a source names its own respondent instead
# (a patient answering by their link is not "system").
SYSTEM = N_("system")

# The site's reasons with values in them: stored in English with the values filled in (the
# API and the bundle carry them as written), shown in the reader's language by matching
# them back (:func:`reason_shown`); the values stay as written.
RECONSENT = N_("re-consent to version %(version)s")
REFUSED_RECONSENT = N_("refused re-consent to version %(version)s")
DOUBLE_ENTRY_AGREE = N_("double data entry: entries %(first)s and %(second)s agree")
DOUBLE_ENTRY_RESOLVED = N_("double data entry of %(first)s and %(second)s resolved; %(items)s")
NOT_DONE = N_("not done (%(reason)s): %(why)s")
QUERY = N_("query %(number)s (%(target)s): %(text)s")
UNCLEAR_REPLY = N_("unclear reply (%(reason)s); asked again")
VERIFIED_VALUE_CHANGED = N_("a verified value changed: %(why)s")
PATTERNS = (
    RECONSENT,
    REFUSED_RECONSENT,
    DOUBLE_ENTRY_AGREE,
    DOUBLE_ENTRY_RESOLVED,
    NOT_DONE,
    QUERY,
    UNCLEAR_REPLY,
    VERIFIED_VALUE_CHANGED,
)


# The values that are words (staff's or a list of them); the others are one token each
# (a version, an id, a code), so that staff's own reason that merely begins like one of
# the site's ("re-consent to version 2.0 was asked by phone") is not taken for it.
_WORDS = {"why", "text", "items"}


def _matcher(pattern: str) -> re.Pattern:
    parts = re.split(r"%\((\w+)\)s", pattern)  # literal, name, literal, name, ...
    regex = ""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            regex += re.escape(part)
        else:
            regex += f"(?P<{part}>" + (".*?" if part in _WORDS else r"\S+?") + ")"
    return re.compile(regex + r"\Z", re.DOTALL)


_MATCHERS = [(pattern, _matcher(pattern)) for pattern in PATTERNS]


@dataclass
class AuditEntry:
    when: datetime
    who: str
    what: str  # e.g. "Participant", "Personal details"
    action: str  # created / changed / deleted
    reason: str
    changes: list[tuple[str, object, object]] = field(default_factory=list)
    by_staff: bool = True  # ``who`` is a user name; else a label the page translates
    # The record as the page names it, in the reader's language; "" where the page
    # translates ``what`` (which stays the English name the API and the bundle carry).
    label: str = ""
    model: type | None = None  # the audited model: its fields' names and choices

    @property
    def reason_shown(self) -> str:
        return reason_shown(self.reason)

    @property
    def readable(self) -> list[tuple[str, object, object]]:
        """The changes as the audit trail page shows them (:func:`readable_changes`)."""
        return readable_changes(self.changes, self.model)


def reason_shown(text: str) -> str:
    """A stored reason in the reader's language where the site wrote it: a reason of its
    own ("enrolment", "verified against source"), or its own words before a colon and the
    staff's after ("withdrawal: moved abroad"), or one of its :data:`PATTERNS` with the
    values it filled in ("re-consent to version 2.0"). The staff's words stay as typed."""
    if not text:
        return ""
    if gettext(text) != text:
        return gettext(text)
    for pattern, matcher in _MATCHERS:
        found = matcher.match(text)
        if found:
            # Words may hold a reason of the site's in turn (a verification cleared by a
            # form marked not done): read the same way.
            values = {
                name: reason_shown(value) if name in _WORDS else value
                for name, value in found.groupdict().items()
            }
            return gettext(pattern) % values
    head, colon, rest = text.partition(": ")
    if colon and gettext(head) != head:
        return f"{gettext(head)}: {rest}"
    return text


def _shown(value):
    """A value as a reader reads it: a float to the digits it was entered with (a score
    computed as 28.000000000000004 reads 28), a list of codes joined, a time as the rest
    of the trail writes times (on the page's clock), nothing for an empty text."""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if value == "":
        return None
    if isinstance(value, list):
        return "; ".join(str(_shown(v)) for v in value)
    return value


def _field(model, name: str):
    try:
        return model._meta.get_field(name) if model is not None else None
    except FieldDoesNotExist:
        return None


def _choice(field, value):
    """A coded value by its label in the reader's language ("sms" reads "SMS")."""
    if field is None or not field.choices:
        return value
    return dict(field.flatchoices).get(value, value)


def readable_changes(changes, model=None) -> list[tuple[str, object, object]]:
    """(field, old, new) with a JSON field (answers, scores, reasons) taken apart key by
    key, listing only the keys that changed, rather than two whole objects side by side.
    Given the audited ``model``, a field reads by its name in the reader's language
    ("Kontaktsätt", "Svar q5") and a coded value by its label; without it, by the
    field's own name ("contact_preference", "answers.q5")."""
    out = []
    for name, old, new in changes:
        field = _field(model, name)
        shown = capfirst(str(field.verbose_name)) if field is not None else name
        if isinstance(old, dict) or isinstance(new, dict):
            before = old if isinstance(old, dict) else {}
            after = new if isinstance(new, dict) else {}
            for key in sorted(before.keys() | after.keys(), key=str):
                if before.get(key) != after.get(key):
                    key_shown = f"{shown} {key}" if field is not None else f"{name}.{key}"
                    out.append((key_shown, _shown(before.get(key)), _shown(after.get(key))))
        else:
            old, new = _choice(field, old), _choice(field, new)
            out.append((shown, _shown(old), _shown(new)))
    return out


def entries_from(
    records: QuerySet, what: str, nobody: str = SYSTEM, label: str | Callable = ""
) -> list[AuditEntry]:
    """Audit entries from one historical queryset (any object, any number of objects);
    ``nobody`` names who made the changes no user made, ``label`` the record for the
    page (:attr:`AuditEntry.label`), or a function of the history row giving it where
    the rows are about different records (each verification names its form)."""
    rows = list(records.select_related("history_user").order_by("history_date", "history_id"))
    previous = {}
    entries = []
    for row in rows:
        key = row.instance_type._meta.pk.attname
        obj_id = getattr(row, key)
        before = previous.get(obj_id)
        changes = []
        if before is not None:
            delta = row.diff_against(before)
            changes = [(c.field, c.old, c.new) for c in delta.changes]
        elif row.history_type == "+":
            changes = [
                (f.name, None, getattr(row, f.attname))
                for f in row.instance_type._meta.concrete_fields
                # a field the history leaves out (excluded_fields) is not a change
                if not f.primary_key and hasattr(row, f.attname)
            ]
        previous[obj_id] = row
        entries.append(
            AuditEntry(
                when=row.history_date,
                who=str(row.history_user) if row.history_user else nobody,
                what=what,
                action=TYPES.get(row.history_type, row.history_type),
                reason=row.history_change_reason or "",
                changes=changes,
                by_staff=row.history_user is not None,
                label=label(row) if callable(label) else label,
                model=row.instance_type,
            )
        )
    return entries


def _participant_rows(participant) -> Iterable[tuple[QuerySet, str]]:
    from .models import ConsentRecord, Deviation, Participant, PersonalDetails

    yield Participant.history.filter(id=participant.pk), N_("Participant")
    yield PersonalDetails.history.filter(participant_id=participant.pk), N_("Personal details")
    yield Deviation.history.filter(participant_id=participant.pk), N_("Protocol deviation")
    yield ConsentRecord.history.filter(participant_id=participant.pk), N_("Consent")


PARTICIPANT_HISTORY_SOURCES: list[Callable] = [_participant_rows]


def participant_history(participant) -> list[AuditEntry]:
    """Every audited change about one participant, newest first. A source yields
    (history queryset, record name) or, with who made the changes no user made,
    (history queryset, record name, who), and may add the record's name for the page
    (history queryset, record name, who, label)."""
    entries: list[AuditEntry] = []
    for source in PARTICIPANT_HISTORY_SOURCES:
        for records, what, *rest in source(participant):
            entries.extend(entries_from(records, what, *rest))
    return sorted(entries, key=lambda e: e.when, reverse=True)
