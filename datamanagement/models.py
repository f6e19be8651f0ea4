"""Models of this app: each concern in its own subpackage."""

from .queries.models import Query, QueryDigest, QueryMessage  # noqa: F401
