"""Every instrument definition the system knows, by code and version."""

from __future__ import annotations

from .base import Instrument

_REGISTRY: dict[tuple[str, int], Instrument] = {}


def register(instrument: Instrument) -> Instrument:
    key = (instrument.code, instrument.version)
    if key in _REGISTRY and _REGISTRY[key] is not instrument:
        raise ValueError(f"instrument {instrument.code} v{instrument.version} registered twice")
    _REGISTRY[key] = instrument
    return instrument


def _load_all() -> None:
    # Importing the definition modules registers them; done lazily so that the
    # registry is complete wherever it is first asked.
    from . import definitions  # noqa: F401


def get(code: str, version: int | None = None) -> Instrument:
    """The instrument ``code`` at ``version``, or its latest version."""
    _load_all()
    if version is not None:
        try:
            return _REGISTRY[(code, version)]
        except KeyError:
            raise KeyError(f"unknown instrument {code!r} version {version}") from None
    versions = [v for (c, v) in _REGISTRY if c == code]
    if not versions:
        raise KeyError(f"unknown instrument {code!r}")
    return _REGISTRY[(code, max(versions))]


def for_trial(trial, code: str) -> Instrument:
    """The version of ``code`` that ``trial`` asks: its protocol file's
    ``[instrument_versions]`` pin, or the latest version."""
    pins = getattr(trial, "instrument_versions", None) or {}
    return get(code, pins.get(code))


def all_instruments() -> list[Instrument]:
    _load_all()
    return sorted(_REGISTRY.values(), key=lambda i: (i.code, i.version))


def codes() -> set[str]:
    _load_all()
    return {c for (c, _) in _REGISTRY}
