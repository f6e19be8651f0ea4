"""Admin registrations of each concern, all read-only: queries are never deleted; locks,
marks and signatures change only through their services (unlocking needs a reason; a
signature is never edited)."""

from .locks import admin as locks_admin  # noqa: F401
from .queries import admin as queries_admin  # noqa: F401
