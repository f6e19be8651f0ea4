"""The questions other apps ask of consent (they may import enrolment; enrolment imports
none of them): a trial's policy and documents, a participant's consent history and
current consent, who awaits re-consent and whether data collection is held for them
(:func:`is_held`, :func:`held_ids`), the answer to an optional item or effect
(:func:`consented_to`, :func:`consented_to_effect`) and the participants who may be
contacted for an interview. :class:`ConsentError` is what a refused consent write raises.
"""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db.models import Exists, F

from ..models import ConsentDocument, ConsentPolicy, ConsentRecord, Participant

REGISTRY_LINKAGE = "registry_linkage"
INTERVIEW_CONTACT = "interview_contact"


class ConsentError(ValidationError):
    pass


# --- reading -----------------------------------------------------------------------------


def policy_of(trial) -> ConsentPolicy | None:
    return ConsentPolicy.objects.filter(trial=trial).first()


def documents_of(trial) -> list[ConsentDocument]:
    return list(ConsentDocument.objects.filter(trial=trial))


def required_document(trial) -> ConsentDocument | None:
    policy = policy_of(trial)
    if policy is None:
        return None
    return ConsentDocument.objects.filter(trial=trial, version=policy.required_version).first()


def history(participant) -> list[ConsentRecord]:
    return list(
        ConsentRecord.objects.filter(participant=participant).select_related(
            "document", "recorded_by"
        )
    )


def current(participant) -> ConsentRecord | None:
    return (
        ConsentRecord.objects.filter(participant=participant)
        .exclude(kind=ConsentRecord.REFUSAL)
        .select_related("document")
        .order_by("given_on", "id")
        .last()
    )


def _awaiting(participants: list[Participant]) -> dict[int, bool]:
    """Participant id -> awaits re-consent; a few queries whatever the number."""
    trial_ids = {p.trial_id for p in participants}
    policies = {p.trial_id: p for p in ConsentPolicy.objects.filter(trial_id__in=trial_ids)}
    orders = {
        (d.trial_id, d.version): (d.order, d.reconsent)
        for d in ConsentDocument.objects.filter(trial_id__in=policies)
    }
    ids = [p.pk for p in participants if p.trial_id in policies]
    latest, refused = {}, defaultdict(set)
    for row in ConsentRecord.objects.filter(participant_id__in=ids).order_by("given_on", "id"):
        if row.kind == ConsentRecord.REFUSAL:
            refused[row.participant_id].add(row.version)
        else:
            latest[row.participant_id] = row.version
    out = {}
    for p in participants:
        policy = policies.get(p.trial_id)
        if policy is None or p.status != Participant.ACTIVE:
            out[p.pk] = False
            continue
        required = policy.required_version
        order, reconsent = orders.get((p.trial_id, required), (0, False))
        mine = latest.get(p.pk)
        mine_order = orders.get((p.trial_id, mine), (0, False))[0] if mine else 0
        out[p.pk] = bool(
            reconsent and mine is not None and mine_order < order and required not in refused[p.pk]
        )
    return out


def awaiting_under(trial, spec) -> list[int]:
    """The active participants of ``trial`` who would await re-consent under ``spec`` (a
    protocol file's ``[consent]`` section, not yet loaded): what an amendment's dry run
    counts, by the same rule as :func:`awaiting_reconsent`."""
    if spec is None:
        return []
    orders = {d.version: (n, d.reconsent) for n, d in enumerate(spec.documents, start=1)}
    order, reconsent = orders.get(spec.required, (0, False))
    if not reconsent:
        return []
    active = Participant.objects.filter(trial=trial, status=Participant.ACTIVE)
    latest, refused = {}, defaultdict(set)
    rows = ConsentRecord.objects.filter(participant__in=active).order_by("given_on", "id")
    for row in rows.values("participant_id", "kind", "version"):
        if row["kind"] == ConsentRecord.REFUSAL:
            refused[row["participant_id"]].add(row["version"])
        else:
            latest[row["participant_id"]] = row["version"]
    return sorted(
        pid
        for pid, mine in latest.items()
        if orders.get(mine, (0, False))[0] < order and spec.required not in refused[pid]
    )


def awaits_reconsent(participant) -> bool:
    return _awaiting([participant])[participant.pk]


def awaiting_reconsent(trial, queryset=None) -> list[Participant]:
    """The trial's participants listed for re-consent (``queryset``: who the user sees)."""
    qs = (queryset if queryset is not None else Participant.objects).filter(
        trial=trial, status=Participant.ACTIVE
    )
    participants = list(qs.select_related("clinic__cluster").order_by("study_id"))
    flags = _awaiting(participants)
    return [p for p in participants if flags[p.pk]]


def is_held(participant, trial_holds: bool | None = None) -> bool:
    """Data collection waits: the trial holds it until re-consent and this one awaits it.
    ``trial_holds``: whether the participant's trial holds at all, when the caller read
    it already (:func:`trial_holds`, annotated on the survey link's own query)."""
    if participant is None or trial_holds is False:
        return False
    # held_ids asks one query in the usual case (no hold).
    return participant.pk in held_ids([participant])


def _holding_documents():
    # A trial holds only while it requires a later version than its first one, with
    # re-consent.
    return ConsentDocument.objects.filter(
        trial__consent_policy__hold_until_reconsent=True,
        trial__consent_policy__required_version=F("version"),
        reconsent=True,
        order__gt=1,
    )


def trial_holds(trial_id) -> Exists:
    """Whether the trial ``trial_id`` (an expression, e.g. ``OuterRef(...)``) holds data
    collection until re-consent: to annotate a query that reads the trial anyway."""
    return Exists(_holding_documents().filter(trial_id=trial_id))


def held_ids(participants) -> set[int]:
    """Of these participants, the ids whose data collection is held (for the dispatchers)."""
    participants = [p for p in participants if p is not None]
    # One query in the usual case (no trial holds).
    holding = set(
        _holding_documents()
        .filter(trial_id__in={p.trial_id for p in participants})
        .values_list("trial_id", flat=True)
    )
    candidates = [p for p in participants if p.trial_id in holding]
    if not candidates:
        return set()
    return {pid for pid, waiting in _awaiting(candidates).items() if waiting}


def consented_to(participant, item_code: str) -> bool:
    """The participant's answer to an optional item under their current consent. An item
    their document did not ask takes the protocol file's ``when_not_asked``; an item the
    trial does not declare, or a participant without consent, is False."""
    policy = policy_of(participant.trial)
    item = policy.item(item_code) if policy else None
    record = current(participant)
    if item is None or record is None:
        return False
    asked = record.document.items if record.document else []
    if item_code not in asked:
        return bool(item.get("when_not_asked"))
    return record.answers.get(item_code) is True


def item_for_effect(trial, effect: str) -> str | None:
    policy = policy_of(trial)
    if policy is None:
        return None
    return next((i["code"] for i in policy.items if i.get("effect") == effect), None)


def consented_to_effect(participant, effect: str) -> bool:
    """Whether the current consent allows ``effect``. A trial whose consent has no item
    for it covers it with the consent itself (True)."""
    code = item_for_effect(participant.trial, effect)
    return True if code is None else consented_to(participant, code)


def without_consent_to(trial, effect: str, participant_ids) -> set[int]:
    """Of these participants of ``trial``, those whose consent does not allow ``effect``."""
    if item_for_effect(trial, effect) is None:
        return set()
    participants = Participant.objects.filter(trial=trial, pk__in=list(participant_ids))
    return {p.pk for p in participants if not consented_to_effect(p, effect)}


def interview_candidates(trial, queryset=None) -> list[Participant]:
    """Active participants who consented to be contacted for an interview, by study ID.
    A trial whose consent has no interview item has no candidates: nobody was asked."""
    code = item_for_effect(trial, INTERVIEW_CONTACT)
    if code is None:
        return []
    qs = (queryset if queryset is not None else Participant.objects).filter(
        trial=trial, status=Participant.ACTIVE
    )
    return [p for p in qs.select_related("clinic").order_by("study_id") if consented_to(p, code)]
