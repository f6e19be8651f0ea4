from .base import Choice, Instrument, Item, ScoreDef  # noqa: F401
from .registry import all_instruments, codes, for_trial, get, register  # noqa: F401
