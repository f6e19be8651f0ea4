"""Trials, clusters, clinics, physiotherapists and participants.

Personal identifiers live only in :class:`PersonalDetails`; everything else carries the
study ID. Clinical records keep an audit history (django-simple-history) and a change to
a saved value needs a reason.

The package: :mod:`.audit` (the reason rule), :mod:`.trial` (the trial's structure from
its protocol file), :mod:`.participants`, :mod:`.randomisation` (stored allocation
lists), :mod:`.consent` (consent documents and history), :mod:`.deviations` and
:mod:`.versions` (protocol versions). Every model is re-exported here: Django finds them
through this module, and ``from enrolment.models import Participant`` keeps working.
"""

from .audit import AuditedModel, ReasonRequired
from .consent import ConsentDocument, ConsentPolicy, ConsentRecord, ElectronicConsent
from .deviations import Deviation, DeviationType
from .participants import (
    Consent,
    Erasure,
    Participant,
    ParticipantQuerySet,
    PersonalDetails,
    ScreeningRecord,
)
from .randomisation import RandomisationList, RandomisationSlot
from .trial import (
    Arm,
    Clinic,
    Cluster,
    EligibilityCriterion,
    Physiotherapist,
    SmsSchedule,
    Timepoint,
    Trial,
    TrialRole,
)
from .versions import ProtocolVersion

__all__ = [
    "Arm",
    "AuditedModel",
    "Clinic",
    "Cluster",
    "Consent",
    "ConsentDocument",
    "ConsentPolicy",
    "ConsentRecord",
    "DeviationType",
    "Deviation",
    "EligibilityCriterion",
    "ElectronicConsent",
    "Erasure",
    "Participant",
    "ParticipantQuerySet",
    "PersonalDetails",
    "Physiotherapist",
    "ProtocolVersion",
    "RandomisationList",
    "RandomisationSlot",
    "ReasonRequired",
    "ScreeningRecord",
    "SmsSchedule",
    "Timepoint",
    "Trial",
    "TrialRole",
]
