"""Who reads the data-management pages (never physiotherapists: they see the locks on the
participant page) and who downloads the locked dataset (pseudonymised: statisticians too)."""

from trialsite import roles

READERS = {roles.DATA_MANAGER, roles.ADMINISTRATOR, roles.MONITOR, roles.INVESTIGATOR,
           roles.COORDINATOR}
DATASET_READERS = READERS | {roles.STATISTICIAN}
