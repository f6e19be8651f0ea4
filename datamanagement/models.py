"""Models of this app, one subpackage per part (imported here so Django finds them)."""

from .locks.models import Lock, LockedDataset  # noqa: F401
from .queries.models import Query, QueryDigest, QueryMessage  # noqa: F401
from .sdv.models import SourceVerification  # noqa: F401
from .signatures.models import Signature  # noqa: F401
