"""Reading a protocol file without touching the database: ``read_protocol(path)`` parses the
TOML, declares its instruments, validates it into a :class:`ProtocolSpec` and turns every
problem into a :class:`ProtocolError` line with the key's location; ``shifted`` moves every
calendar date of a spec by a number of days (for the demo).
"""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from pathlib import Path

from pydantic import ValidationError

from .. import catalogue, consent_protocol, edit_checks, tags
from .sections import ProtocolError
from .spec import ProtocolSpec


def _format_location(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def read_protocol(path: Path | str) -> ProtocolSpec:
    """Parse and validate a protocol file; nothing is written."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProtocolError(path, ["file not found"]) from None
    except IsADirectoryError:
        raise ProtocolError(path, ["is a directory, not a protocol file"]) from None
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            path, [f"not a text file in UTF-8 (byte {exc.start}): is it a protocol file?"]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(path, [f"not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ProtocolError(path, ["nested too deeply to be a protocol file"]) from None
    _register_declared(path, raw)
    try:
        spec = ProtocolSpec.model_validate(raw)
    except RecursionError:
        raise ProtocolError(path, ["nested too deeply to be a protocol file"]) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check its spelling)"
            problems.append(f"{_format_location(err['loc'])}: {msg}")
        raise ProtocolError(path, problems) from None
    problems = consent_protocol.check(spec.consent, path) + edit_checks.problems(spec)
    if problems := problems + tags.problems(spec):
        raise ProtocolError(path, problems)
    return spec


def _register_declared(path: Path, raw: dict) -> None:
    try:
        catalogue.declare(raw.get("instruments", []))
    except ValidationError as exc:
        raise ProtocolError(
            path,
            [
                f"instruments.{_format_location(e['loc'])}: "
                f"{e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()
            ],
        ) from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise ProtocolError(path, [f"instruments: {exc}"]) from None


def shifted(spec: ProtocolSpec, days: int) -> ProtocolSpec:
    """The same protocol with every calendar date moved by ``days`` (for the demo)."""
    if not days:
        return spec
    delta = timedelta(days=days)

    def move(d: date | None) -> date | None:
        return d + delta if d else d

    trial = spec.trial.model_copy(
        update={
            "recruitment_start": move(spec.trial.recruitment_start),
            "recruitment_end": move(spec.trial.recruitment_end),
            "retention_until": move(spec.trial.retention_until),
        }
    )
    clusters = [c.model_copy(update={"crossover": move(c.crossover)}) for c in spec.clusters]
    consent = consent_protocol.shifted(spec.consent, days)
    return spec.model_copy(update={"trial": trial, "clusters": clusters, "consent": consent})
