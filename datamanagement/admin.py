"""Admin registrations of each concern (read-only for queries)."""

from .queries import admin as queries_admin  # noqa: F401
