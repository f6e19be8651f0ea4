"""Every instrument definition the system knows, by code and version."""

from __future__ import annotations

from .base import Instrument

_REGISTRY: dict[tuple[str, int], Instrument] = {}


def register(instrument: Instrument) -> Instrument:
    key = (instrument.code, instrument.version)
    if key in _REGISTRY and _REGISTRY[key] is not instrument:
        if _same_declaration(_REGISTRY[key], instrument):
            return _REGISTRY[key]  # a protocol file read again
        raise ValueError(
            f"instrument {instrument.code} version {instrument.version} is already defined "
            "with other items, wording or scores; a changed item needs a new instrument "
            "version (answers keep the meaning of the version they were given on)"
        )
    _REGISTRY[key] = instrument
    return instrument


def _same_declaration(a: Instrument, b: Instrument) -> bool:
    fields = ("name", "respondent", "items", "scores", "recall", "source", "options")
    return bool(a.options.get("declared")) and all(getattr(a, f) == getattr(b, f) for f in fields)


_declared_loaded = False


def _load_all() -> None:
    # Importing the definition modules registers them; done lazily so that the
    # registry is complete wherever it is first asked. Then the instruments the shipped
    # protocol files declare (questionnaires.instruments.declared), once per process.
    global _declared_loaded
    from . import definitions  # noqa: F401

    if not _declared_loaded:
        _declared_loaded = True
        from .declared import load_shipped

        load_shipped()


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
