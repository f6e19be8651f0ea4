"""Who may see what. Views and querysets ask here; templates only decorate.

Roles are per trial (:class:`enrolment.models.TrialRole`); a physiotherapist is whoever
has a :class:`enrolment.models.Physiotherapist` record, and sees only their own clinic.
Superusers are the system's administrators and see every trial.
"""

from __future__ import annotations

from django.db.models import Q

COORDINATOR = "coordinator"
DATA_MANAGER = "data_manager"
STATISTICIAN = "statistician"
ADMINISTRATOR = "administrator"
PHYSIOTHERAPIST = "physiotherapist"
# Monitors read what data managers read (personal details only where the trial allows),
# raise and close queries and verify against source; investigators sign casebooks.
MONITOR = "monitor"
INVESTIGATOR = "investigator"

# Roles that see every participant of their trial.
TRIAL_WIDE = {COORDINATOR, DATA_MANAGER, STATISTICIAN, ADMINISTRATOR, MONITOR, INVESTIGATOR}
# Roles that may see personal identifiers (never statisticians: they get pseudonymised data).
PERSONAL_DETAILS = {COORDINATOR, DATA_MANAGER, ADMINISTRATOR, PHYSIOTHERAPIST, INVESTIGATOR}
# Roles that may read a participant's audit history.
HISTORY = {COORDINATOR, DATA_MANAGER, ADMINISTRATOR, MONITOR, INVESTIGATOR}
# Roles that produce a participant's own data and erase their personal data (GDPR):
# coordinators, who deal with the participant; not even administrators by their role.
PRIVACY_RIGHTS = {COORDINATOR}
# Roles that open the analysis pages (exports, registry, analysis runs); the menu's
# "analysis" entry follows this, so monitors and investigators are not sent to a 403.
ANALYSIS = {STATISTICIAN, COORDINATOR, DATA_MANAGER, ADMINISTRATOR}
# Roles that may change participant records.
EDIT = {COORDINATOR, DATA_MANAGER, ADMINISTRATOR, PHYSIOTHERAPIST}
# Roles that may record protocol deviations (physiotherapists at the participant's clinic).
DEVIATIONS = {COORDINATOR, DATA_MANAGER, ADMINISTRATOR, PHYSIOTHERAPIST}
# Roles that record the implementation: workshops, SWOT analyses, interview selection.
IMPLEMENTATION = {COORDINATOR, DATA_MANAGER, ADMINISTRATOR}


def roles_in(user, trial) -> set[str]:
    """The roles ``user`` holds in ``trial``."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return {ADMINISTRATOR}
    cache = getattr(user, "_trial_roles_cache", None)
    if cache is None:
        cache = _load_roles(user)
        user._trial_roles_cache = cache
    return cache.get(trial.pk, set())


def _load_roles(user) -> dict[int, set[str]]:
    from enrolment.models import Physiotherapist, TrialRole

    roles: dict[int, set[str]] = {}
    for trial_id, role in TrialRole.objects.filter(user=user).values_list("trial_id", "role"):
        roles.setdefault(trial_id, set()).add(role)
    physio_trials = Physiotherapist.objects.filter(user=user, active=True).values_list(
        "clinic__cluster__trial_id", flat=True
    )
    for trial_id in physio_trials:
        roles.setdefault(trial_id, set()).add(PHYSIOTHERAPIST)
    return roles


def has_any(user, trial, wanted: set[str]) -> bool:
    return bool(roles_in(user, trial) & wanted)


def trials_of(user):
    from enrolment.models import Trial

    if not user.is_authenticated:
        return Trial.objects.none()
    if user.is_superuser:
        return Trial.objects.all()
    return Trial.objects.filter(pk__in=list(_load_roles(user)))


def participant_filter(user) -> Q:
    """The participants ``user`` may see, as a filter on Participant."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    from enrolment.models import Physiotherapist, TrialRole

    # Subqueries rather than joins, so that a user with two roles never sees a row twice.
    trial_wide = TrialRole.objects.filter(user=user, role__in=TRIAL_WIDE).values("trial_id")
    own_clinics = Physiotherapist.objects.filter(user=user, active=True).values("clinic_id")
    return Q(trial_id__in=trial_wide) | Q(clinic_id__in=own_clinics)


def clinic_filter(user) -> Q:
    """The clinics ``user`` may see, as a filter on Clinic: the clinics of the
    participants :func:`participant_filter` lets through (for a list's filters)."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    from enrolment.models import Physiotherapist, TrialRole

    trial_wide = TrialRole.objects.filter(user=user, role__in=TRIAL_WIDE).values("trial_id")
    own_clinics = Physiotherapist.objects.filter(user=user, active=True).values("clinic_id")
    return Q(cluster__trial_id__in=trial_wide) | Q(pk__in=own_clinics)


def _allowed(user, participant, wanted: set[str]) -> bool:
    """``wanted`` roles in the participant's trial; physiotherapists only at their clinic."""
    roles = roles_in(user, participant.trial)
    if roles & (wanted - {PHYSIOTHERAPIST}):
        return True
    if PHYSIOTHERAPIST in roles and PHYSIOTHERAPIST in wanted:
        return participant.clinic.physiotherapists.filter(user=user, active=True).exists()
    return False


def personal_details_roles(trial) -> set[str]:
    """The roles that see personal details in ``trial``: monitors too where the trial's
    protocol file allows it (trial.monitor_sees_personal_details)."""
    if getattr(trial, "monitor_sees_personal_details", False):
        return PERSONAL_DETAILS | {MONITOR}
    return PERSONAL_DETAILS


def can_see_personal_details(user, participant) -> bool:
    """Statisticians never; physiotherapists only for their own clinic; monitors only
    where the trial allows it."""
    return _allowed(user, participant, personal_details_roles(participant.trial))


def blinded_for(user, trial) -> bool:
    """A statistician with no other role in a blinded trial: the site shows them no
    participant's condition and no free-text withdrawal or decline reason."""
    held = roles_in(user, trial)
    return trial.blinded and STATISTICIAN in held and not held - {STATISTICIAN}


def can_edit(user, participant) -> bool:
    return _allowed(user, participant, EDIT)


def can_record_deviation(user, participant) -> bool:
    return _allowed(user, participant, DEVIATIONS)


def context_processor(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    trials = list(trials_of(user))
    return {
        "my_trials": trials,
        "analysis_trials": {t.pk for t in trials if has_any(user, t, ANALYSIS)},
    }


def emails_of(trial, wanted: set[str]) -> list[str]:
    """Email addresses of the active users holding any of ``wanted`` in ``trial``."""
    from enrolment.models import TrialRole

    return sorted(
        set(
            TrialRole.objects.filter(trial=trial, role__in=wanted, user__is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )
