"""Who reads the data-management pages (never physiotherapists: they see the locks on the
participant page) and who downloads the locked dataset (pseudonymised: statisticians too)."""

from enrolment import permissions as roles

READERS = roles.DM_READERS
DATASET_READERS = roles.DATASET_READERS
