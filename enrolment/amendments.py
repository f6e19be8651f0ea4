"""Protocol versions and amendments: each load of a changed protocol file.

``load_versioned(path, amendment=..., dry_run=...)`` reads the file, diffs it against the
trial's last :class:`~enrolment.models.ProtocolVersion`, refuses changes that would
corrupt data (nothing written), writes the trial (:func:`enrolment.protocol.writing.write_trial`)
and records version n+1 with its diff and its consequences. Enrolment is the bottom of
the apps, so what a change means for data it does not own is asked through two signals:

* ``protocol_amendment_checks`` -- receivers return refusals (strings): questionnaires
  refuses removing an instrument that has responses, or an instrument whose items
  changed under the same version while responses exist.
* ``protocol_amended`` -- receivers return consequences (dicts) and, with ``apply``,
  carry them out: follow-up re-plans the contacts not yet due. The dry run sends the same
  signal without ``apply``, from the same inputs, so its figures are the load's.

Left whole although it is over 400 lines: the load, its refusals and its consequences
are one transaction read top to bottom, and the dry run must follow the same path as the
load; the diff itself lives in :mod:`enrolment.protocol_diff`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import ProtectedError
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_noop

from . import catalogue, protocol_diff
from .protocol.reading import read_protocol, shifted
from .protocol.sections import ProtocolError
from .protocol.spec import ProtocolSpec
from .protocol.writing import LoadReport, write_trial

# kwargs: trial, spec, previous (ProtocolVersion | None), instruments. Return list[str].
protocol_amendment_checks = Signal()
# kwargs: trial, number, version (None on a dry run), timepoints (list of dicts as in the
# file), reason, now, apply. Return list[dict] (see consequence_text).
protocol_amended = Signal()

INSTRUMENT_SECTION = "instrument definitions"

AMENDMENT_MAX = 100  # ProtocolVersion.amendment's max_length

class AmendmentRequired(ProtocolError):
    pass


@dataclass
class AmendmentResult:
    trial: object | None
    number: int
    new_version: bool
    changes: list[protocol_diff.Change] = field(default_factory=list)
    consequences: list[dict] = field(default_factory=list)
    report: LoadReport | None = None
    version: object | None = None
    dry_run: bool = False
    amendment: str = ""
    first_recorded: bool = False

    def lines(self) -> list[str]:
        code = getattr(self.trial, "code", "") or "(new trial)"
        if not self.new_version:
            return [f"{code}: protocol version {self.number} unchanged"]
        head = f"{code}: protocol version {self.number}"
        if self.amendment:
            head += f" (amendment {self.amendment})"
        if self.dry_run:
            head += " -- dry run, nothing written"
        out = [head]
        if self.first_recorded:
            out.append("  first recorded version: earlier loads kept no version to diff against")
        elif self.number > 1:
            out.append(f"  changes against version {self.number - 1}:")
            out += [f"    {c.text()}" for c in self.changes] or ["    (none)"]
        if self.consequences:
            out.append("  consequences:")
            out += [f"    {consequence_text(c)}" for c in self.consequences]
        return out


def consequence_text(c: dict) -> str:
    if "contacts" not in c:  # a change that reaches participants, not their contacts
        text = f"{c['change']}: {c.get('participants', 0)} participant(s) {c['action']}"
        return text + (f"; {c['note']}" if c.get("note") else "")
    who = [f"{c[k]} {k}" for k in ("participants", "physiotherapists") if c.get(k)]
    text = f"{c['change']}: {c.get('contacts', 0)} contact(s) {c.get('action', 'touched')}"
    if who:
        text += f" ({', '.join(who)})"
    if c.get("note"):
        text += f"; {c['note']}"
    return text


def current_version(trial):
    """The trial's latest protocol version (None before the first versioned load)."""
    return trial.protocol_versions.order_by("-number").first() if trial and trial.pk else None


def instrument_fingerprints(spec: ProtocolSpec) -> dict[str, dict]:
    """The definition each instrument of the protocol is answered on: its version and a
    hash of its items (what an answer means), to catch a definition edited in place."""
    get = catalogue.get  # the registry: definitions, no data
    out = {}
    for code in sorted({i for t in spec.timepoints for i in t.instruments}):
        ins = get(code, spec.instrument_versions.get(code))
        items = json.dumps([asdict(i) for i in ins.items], sort_keys=True, default=str)
        out[code] = {
            "version": ins.version,
            "fingerprint": hashlib.sha256(items.encode()).hexdigest()[:16],
        }
    return out


def instrument_changes(old: dict, new: dict) -> list[protocol_diff.Change]:
    out = []
    for code in sorted(set(old) & set(new)):
        a, b = old[code], new[code]
        if a["version"] != b["version"]:
            out.append(
                protocol_diff.Change(
                    INSTRUMENT_SECTION,
                    code,
                    protocol_diff.CHANGED,
                    "version",
                    a["version"],
                    b["version"],
                )
            )
        elif a["fingerprint"] != b["fingerprint"]:
            out.append(
                protocol_diff.Change(
                    INSTRUMENT_SECTION,
                    code,
                    protocol_diff.CHANGED,
                    f"items of version {b['version']}",
                    a["fingerprint"],
                    b["fingerprint"],
                )
            )
    return out


def load_versioned(
    path: Path | str,
    shift_days: int = 0,
    *,
    amendment: str = "",
    loaded_by=None,
    dry_run: bool = False,
    require_amendment: bool = False,
    now: datetime | None = None,
) -> AmendmentResult:
    """Load ``path`` as the trial's next protocol version (or, unchanged, as none)."""
    from .models import Trial

    path = Path(path)
    spec = shifted(read_protocol(path), shift_days)
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    amendment = (amendment or "").strip()
    now = now or timezone.now()
    snapshot = spec.model_dump(mode="json")
    instruments = instrument_fingerprints(spec)
    with transaction.atomic():
        trial = Trial.objects.select_for_update().filter(code=spec.trial.code).first()
        previous = current_version(trial)
        unchanged = previous is not None and (
            previous.sha256,
            previous.spec,
            previous.instruments,
        ) == (
            sha,
            snapshot,
            instruments,
        )
        result = AmendmentResult(
            trial=trial,
            number=previous.number if unchanged else (previous.number + 1 if previous else 1),
            new_version=not unchanged,
            dry_run=dry_run,
            amendment=amendment,
            first_recorded=trial is not None and previous is None,
        )
        if unchanged:
            if not dry_run:
                result.trial, result.report = write_trial(path, spec)
            result.version = previous
            return result
        if previous is not None:
            result.changes = protocol_diff.diff(previous.spec, snapshot) + instrument_changes(
                previous.instruments, instruments
            )
        changed_file = trial is not None and (previous is not None or trial.protocol_sha256 != sha)
        if require_amendment and changed_file and not amendment and not dry_run:
            raise AmendmentRequired(
                path,
                [
                    f"trial {trial.code} already exists and the file changed: give the "
                    'amendment\'s approval, e.g. --amendment "EPN 2017/123" (try --dry-run '
                    "to see the changes first)"
                ],
            )
        if len(amendment or "") > AMENDMENT_MAX:
            raise ProtocolError(
                path,
                [
                    f"the amendment reference is {len(amendment)} characters; give at most "
                    f"{AMENDMENT_MAX} (the approval's number, e.g. \"EPN 2017/123\")"
                ],
            )
        if trial is not None:
            refusals = _refusals(trial, spec, previous, instruments, now)
            if refusals:
                raise ProtocolError(path, refusals)
        # The history rows keep 100 characters of the reason; the version keeps the whole
        # reference.
        reason = (
            f"protocol file {path.name}" + (f", amendment {amendment}" if amendment else "")
        )[:100]
        if dry_run:
            if trial is not None:
                result.consequences = _consequences(
                    trial, spec, result.number, None, reason, now, previous, result.changes
                )
            return result
        version = None
        if trial is not None:
            version = _record(
                trial,
                result.number,
                path,
                raw,
                sha,
                amendment,
                loaded_by,
                now,
                snapshot,
                instruments,
                result.changes,
            )
            _retire_removed(trial, spec, version)
        trial, result.report = write_trial(path, spec, reason)
        if version is None:
            version = _record(
                trial,
                result.number,
                path,
                raw,
                sha,
                amendment,
                loaded_by,
                now,
                snapshot,
                instruments,
                result.changes,
            )
        trial.timepoints.filter(code__in=[t.code for t in spec.timepoints]).exclude(
            removed_in=None
        ).update(removed_in=None)
        if previous is not None:
            before = {t["code"] for t in previous.spec.get("timepoints", [])}
            added = {t.code for t in spec.timepoints} - before
            trial.timepoints.filter(code__in=added).update(added_in=version)
        relisted = {
            c.key for c in result.changes if c.section == "timepoints" and c.field == "instruments"
        }
        trial.timepoints.filter(code__in=relisted).update(instruments_since=version)
        result.consequences = _consequences(
            trial, spec, result.number, version, reason, now, previous, result.changes
        )
        version.consequences = result.consequences
        version.save(update_fields=["consequences"])
        result.trial, result.version = trial, version
        return result


def _record(
    trial, number, path, raw, sha, amendment, loaded_by, now, snapshot, instruments, changes
):
    from .models import ProtocolVersion

    return ProtocolVersion.objects.create(
        trial=trial,
        number=number,
        loaded_at=now,
        loaded_by=loaded_by,
        file_name=path.name,
        sha256=sha,
        text=raw.decode("utf-8"),
        amendment=amendment,
        spec=snapshot,
        instruments=instruments,
        diff=[c.as_dict() for c in changes],
    )


def _retire_removed(trial, spec: ProtocolSpec, version) -> None:
    """A dropped timepoint goes; one that contacts still refer to stays, planned for nobody."""
    keep = {t.code for t in spec.timepoints}
    for tp in trial.timepoints.filter(removed_in=None).exclude(code__in=keep):
        try:
            with transaction.atomic():
                tp.delete()
        except ProtectedError:
            tp.removed_in = version
            tp.save(update_fields=["removed_in"])


# What a change to a section means when no receiver counts anything for it.
# Stored in English (the command line prints them); marked so that the protocol version
# page shows them translated (enrolment.views_versions.note_text).
SECTION_NOTES = {
    "eligibility": gettext_noop(
        "applies to screenings from this version on; enrolled participants are not re-assessed"
    ),
    "clusters": gettext_noop(
        "applies to enrolments from this version on; allocated conditions never change"
    ),
    "trial": gettext_noop("applies from this version on"),
    INSTRUMENT_SECTION: gettext_noop(
        "answers from now on use the new definition; stored responses keep the version they "
        "were answered on"
    ),
}


def _consequences(
    trial, spec: ProtocolSpec, number: int, version, reason: str, now, previous, changes
) -> list:
    timepoints = [t.model_dump(mode="json") for t in spec.timepoints]
    out = []
    for _receiver, answer in protocol_amended.send(
        sender=type(trial),
        trial=trial,
        number=number,
        version=version,
        timepoints=timepoints,
        previous_spec=previous.spec if previous else None,
        new_spec=spec.model_dump(mode="json"),
        reason=reason,
        now=now,
        apply=version is not None,
    ):
        out.extend(answer or [])
    if any(c.section == "consent" for c in changes):
        out.append(_consent_consequence(trial, spec))
    counted = {c["change"].split(":")[0].split()[0] for c in out}
    sections: dict[str, int] = {}
    for c in changes:
        if c.section not in counted and c.section != "timepoints":
            sections[c.section] = sections.get(c.section, 0) + 1
    for section, n in sections.items():
        note = SECTION_NOTES.get(section, SECTION_NOTES["trial"])
        out.append(
            {
                "change": f"{section}: {n} change(s)",
                "action": "re-planned",
                "contacts": 0,
                "note": note,
            }
        )
    return out


def _consent_consequence(trial, spec: ProtocolSpec) -> dict:
    """Who the amended consent section lists for re-consent, and whether their data
    collection waits (counted from the file and the consent records: the dry run's figure
    is the load's)."""
    from .consent.reading import awaiting_under

    section = spec.consent
    waiting = awaiting_under(trial, section)
    if section is None:
        note = gettext_noop("the trial no longer lists consent documents")
    elif waiting and section.hold_until_reconsent:
        note = gettext_noop("their data collection is held until they re-consent")
    elif waiting:
        note = gettext_noop("their data collection continues meanwhile")
    else:
        note = ""
    required = f"consent: version {section.required} required" if section else "consent"
    out = {"change": required, "action": "listed for re-consent", "participants": len(waiting)}
    return {**out, "note": note} if note else out


def _refusals(trial, spec: ProtocolSpec, previous, instruments: dict, now) -> list[str]:
    problems = _crossover_refusals(trial, spec, now)
    for _receiver, answer in protocol_amendment_checks.send(
        sender=type(trial), trial=trial, spec=spec, previous=previous, instruments=instruments
    ):
        problems.extend(answer or [])
    return problems


def _crossover_refusals(trial, spec: ProtocolSpec, now) -> list[str]:
    """A crossover that already happened, or one moved to a day already past, would
    contradict the condition participants were allocated (it never changes)."""
    if not trial.participants.exists():
        return []  # nobody allocated yet: the file is still a draft
    today = now.astimezone(ZoneInfo(trial.time_zone)).date()
    saved = dict(trial.clusters.values_list("code", "crossover"))
    out = []
    for c in spec.clusters:
        old = saved.get(c.code)
        if c.code not in saved or old == c.crossover:
            continue
        past = [d for d in (old, c.crossover) if d is not None and d <= today]
        if past:
            out.append(
                f"clusters {c.code}: moving the crossover from {old or '(none)'} to "
                f"{c.crossover or '(none)'} is refused: {min(past)} is not after today "
                f"({today}), and participants were allocated by the crossover as it stood"
            )
    return out
