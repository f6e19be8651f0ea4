"""Who may see and do what: every role set of the site, in one module at the bottom of
the app order (DESIGN.md), so that every app asks here and none defines its own. Views
and querysets ask here; templates only decorate.

Roles are per trial (:class:`enrolment.models.TrialRole`); a physiotherapist is whoever
has a :class:`enrolment.models.Physiotherapist` record, and sees only their own clinic.
Superusers are the system's administrators and see every trial. (``trialsite.roles`` is
this module under its old name.)
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
# Clinic managers see their clinics' recruitment as counts (no participant, no study ID)
# and get the weekly recruitment email; TrialRole.clinics names their clinics.
CLINIC_MANAGER = "clinic_manager"

# --- seeing participants --------------------------------------------------------------
# Roles that see every participant of their trial.
TRIAL_WIDE = {COORDINATOR, DATA_MANAGER, STATISTICIAN, ADMINISTRATOR, MONITOR, INVESTIGATOR}
# Roles that may see personal identifiers (never statisticians: they get pseudonymised data).
PERSONAL_DETAILS = {COORDINATOR, DATA_MANAGER, ADMINISTRATOR, PHYSIOTHERAPIST, INVESTIGATOR}
# Roles that may read a participant's audit history.
HISTORY = {COORDINATOR, DATA_MANAGER, ADMINISTRATOR, MONITOR, INVESTIGATOR}
# The trial's dashboard and screening log (physiotherapists: their own clinic's rows).
DASHBOARD = TRIAL_WIDE | {PHYSIOTHERAPIST}
# Lists of participants and their contacts (a clinic manager sees counts only).
PARTICIPANT_LISTS = TRIAL_WIDE | {PHYSIOTHERAPIST}

# --- changing participant records -----------------------------------------------------
# Roles that may change participant records.
EDIT = {COORDINATOR, DATA_MANAGER, ADMINISTRATOR, PHYSIOTHERAPIST}
# Roles that may record protocol deviations (physiotherapists at the participant's clinic).
DEVIATIONS = {COORDINATOR, DATA_MANAGER, ADMINISTRATOR, PHYSIOTHERAPIST}
# Record the implementation: workshops, SWOT analyses, interview selection.
IMPLEMENTATION = {COORDINATOR, DATA_MANAGER, ADMINISTRATOR}
# Enrol (physiotherapists at their own clinic).
ENROL = {COORDINATOR, ADMINISTRATOR, PHYSIOTHERAPIST}
# Run the trial: enrol at any clinic, move a crossover, upload a randomisation list,
# record a death, reschedule contacts, read blinding codes, manage the staff.
MANAGE = {COORDINATOR, ADMINISTRATOR}
RECORD_DEATH = MANAGE
RESCHEDULE = MANAGE
BLINDING = MANAGE
STAFF_MANAGERS = MANAGE
# Roles that produce a participant's own data and erase their personal data (GDPR):
# coordinators, who deal with the participant; not even administrators by their role.
PRIVACY_RIGHTS = {COORDINATOR}

# --- analysis and messages -------------------------------------------------------------
# Roles that open the analysis pages (exports, registry, analysis runs); the menu's
# "analysis" entry follows this, so monitors and investigators are not sent to a 403.
ANALYSIS = {STATISTICIAN, COORDINATOR, DATA_MANAGER, ADMINISTRATOR}
# Pseudonymised exports by the API (ODM): who opens the analysis pages.
EXPORT = ANALYSIS
# Upload the registry extract.
REGISTRY = {DATA_MANAGER, COORDINATOR, ADMINISTRATOR}
# A trial's message log (no bodies).
MESSAGE_LOG = {COORDINATOR, DATA_MANAGER, ADMINISTRATOR, STATISTICIAN}
# A whole trial's outbox (recipients and bodies are personal data).
OUTBOX_TRIAL_WIDE = PERSONAL_DETAILS - {PHYSIOTHERAPIST}

# --- data management --------------------------------------------------------------------
# The data-management pages and every query of the trial (never physiotherapists: they
# see the locks and their queries on the participant page).
DM_READERS = {DATA_MANAGER, ADMINISTRATOR, MONITOR, INVESTIGATOR, COORDINATOR}
# The locked dataset (pseudonymised: statisticians too).
DATASET_READERS = DM_READERS | {STATISTICIAN}
# Raise, close and re-open queries; answer and correct them (physiotherapists only at
# the participant's clinic).
QUERY_RAISERS = {DATA_MANAGER, MONITOR, ADMINISTRATOR}
QUERY_ANSWERERS = {COORDINATOR, ADMINISTRATOR, PHYSIOTHERAPIST}
# Verify against source; sign casebooks; lock and freeze.
VERIFIERS = {MONITOR, DATA_MANAGER, ADMINISTRATOR}
SIGNERS = {INVESTIGATOR}
LOCKERS = {DATA_MANAGER, ADMINISTRATOR}
# Paper: scanned returns and double-entry resolution by data managers; the tray of
# packs to post by whoever edits participant records.
DATA_ENTRY = {DATA_MANAGER, ADMINISTRATOR}
SCAN = DATA_ENTRY
RESOLVERS = DATA_ENTRY
PAPER_TRAY = {COORDINATOR, DATA_MANAGER, ADMINISTRATOR, PHYSIOTHERAPIST}


def roles_in(user, trial) -> set[str]:
    """The roles ``user`` holds in ``trial``."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return {ADMINISTRATOR}
    return _roles_of(user).get(trial.pk, set())


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


def _roles_of(user) -> dict[int, set[str]]:
    """Trial id -> roles of ``user``, read once a request (kept on the user object)."""
    cache = getattr(user, "_trial_roles_cache", None)
    if cache is None:
        cache = user._trial_roles_cache = _load_roles(user)
    return cache


def trial_ids_where(user, role: str) -> set[int]:
    """The ids of the trials where ``user`` holds ``role`` (from the roles already read
    for this request, where they were)."""
    if not user.is_authenticated or not user.is_active or user.is_superuser:
        return set()
    return {trial_id for trial_id, held in _roles_of(user).items() if role in held}


def has_any(user, trial, wanted: set[str]) -> bool:
    return bool(roles_in(user, trial) & wanted)


def trials_of(user):
    from enrolment.models import Trial

    if not user.is_authenticated:
        return Trial.objects.none()
    if user.is_superuser:
        return Trial.objects.all()
    return Trial.objects.filter(pk__in=list(_roles_of(user)))


def my_trials(user) -> list:
    """:func:`trials_of` read once a request (kept on the user object, as the roles are):
    the menu, the second-factor check and the time zone each ask for them on every page."""
    cache = getattr(user, "_trials_cache", None)
    if cache is None:
        cache = user._trials_cache = list(trials_of(user))
    return cache


def time_zones_of(user) -> set[str]:
    """The time zones of the trials where ``user`` holds a role or treats patients (every
    staff page asks: :class:`accounts.middleware.TrialTimeZoneMiddleware`)."""
    return {trial.time_zone for trial in my_trials(user)}


def trial_or_clinic_filter(user, wanted: set[str], trial_field: str, clinic_field: str) -> Q:
    """Rows of the trials where ``user`` holds a ``wanted`` role, and of the clinics where
    they are an active physiotherapist, as a filter naming the rows' trial and clinic
    fields. Subqueries rather than joins, so that a user with two roles never sees a row
    twice."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    from enrolment.models import Physiotherapist, TrialRole

    trials = TrialRole.objects.filter(user=user, role__in=wanted).values("trial_id")
    own_clinics = Physiotherapist.objects.filter(user=user, active=True).values("clinic_id")
    return Q(**{f"{trial_field}__in": trials}) | Q(**{f"{clinic_field}__in": own_clinics})


def participant_filter(user) -> Q:
    """The participants ``user`` may see, as a filter on Participant."""
    return trial_or_clinic_filter(user, TRIAL_WIDE, "trial_id", "clinic_id")


def clinic_filter(user) -> Q:
    """The clinics ``user`` may see, as a filter on Clinic: the clinics of the
    participants :func:`participant_filter` lets through (for a list's filters)."""
    return trial_or_clinic_filter(user, TRIAL_WIDE, "cluster__trial_id", "pk")


def recruitment_clinic_filter(user) -> Q:
    """The clinics whose recruitment counts ``user`` may see, as a filter on Clinic:
    those of :func:`clinic_filter` and the clinics they manage."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    from enrolment.models import TrialRole

    managed = TrialRole.objects.filter(user=user, role=CLINIC_MANAGER).values("clinics")
    return clinic_filter(user) | Q(pk__in=managed)


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
    trials = my_trials(user)
    return {
        "my_trials": trials,
        "analysis_trials": {t.pk for t in trials if has_any(user, t, ANALYSIS)},
        "data_management_trials": {t.pk for t in trials if has_any(user, t, DM_READERS)},
    }


def users_of(trial, wanted: set[str]):
    """The active users with an email address holding any of ``wanted`` in ``trial``
    (the recipients of a trial's emails)."""
    from django.contrib.auth import get_user_model

    from enrolment.models import TrialRole

    held = TrialRole.objects.filter(trial=trial, role__in=wanted).values("user_id")
    return get_user_model().objects.filter(pk__in=held, is_active=True).exclude(email="")


def emails_of(trial, wanted: set[str]) -> list[str]:
    """Email addresses of the active users holding any of ``wanted`` in ``trial``."""
    return sorted(set(users_of(trial, wanted).values_list("email", flat=True)))
