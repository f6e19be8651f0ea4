"""National ID numbers typed at enrolment: format, checksum and the birth date they carry.

Sweden (personnummer, samordningsnummer with 60 added to the day) and Denmark (CPR) have
a number with a date of birth in it; other countries are stored as typed, trimmed.
``python-stdnum`` does the arithmetic (Luhn for personnummer; CPR's date and century).

A CPR number's modulus-11 check is only a warning: since 2007 Denmark issues numbers
that fail it. Messages never repeat the number (they reach form errors and logs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _
from stdnum import luhn
from stdnum.dk import cpr
from stdnum.exceptions import InvalidComponent, ValidationError
from stdnum.se import personnummer

# Regions with a checked number (ISO 3166 alpha-2, as enrolment.phone.region_of gives).
CHECKED = ("SE", "DK")


@dataclass
class IdCheck:
    """``normalised``: the form stored and compared (``YYYYMMDD-XXXX`` for Sweden,
    ``DDMMYY-XXXX`` for Denmark); ``errors`` refuse the number, ``warnings`` need a
    confirmation; ``birth_date`` is the date the number carries, if any."""

    normalised: str
    birth_date: date | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check(number: str, region: str, today: date | None = None) -> IdCheck:
    """Check ``number`` as a national ID of ``region``. An empty number is fine here
    (the form decides whether one is required)."""
    typed = " ".join((number or "").split())
    if not typed or region not in CHECKED:
        return IdCheck(normalised=typed)
    if region == "SE":
        return _personnummer(typed, today)
    return _cpr(typed)


def normalise(number: str, region: str) -> str:
    """The comparable form of a stored number: what :func:`check` stores, or the number
    without spaces and dashes when it does not pass (an old, unchecked row)."""
    result = check(number, region)
    if result.errors:
        return "".join(c for c in (number or "") if c.isalnum()).upper()
    return result.normalised


def _personnummer(typed: str, today: date | None) -> IdCheck:
    digits = "".join(c for c in typed if c.isdigit())
    if len(digits) not in (10, 12) or not all(c.isdigit() or c in " -+" for c in typed):
        return IdCheck(
            typed,
            errors=[
                _(
                    "National ID: a personnummer has 10 or 12 digits, as YYYYMMDD-XXXX "
                    "or YYMMDD-XXXX."
                )
            ],
        )
    # Samordningsnummer: the day of birth plus 60; the check digit covers the number as
    # issued, the birth date is the day minus 60 (stdnum knows only the plain form).
    head, tail = digits[:-4], digits[-4:]
    day = int(head[-2:])
    if day > 60:
        head = f"{head[:-2]}{day - 60:02d}"
    if not luhn.is_valid(digits[-10:]):
        return IdCheck(
            typed,
            errors=[_("National ID: the check digit does not match (check the last four digits).")],
        )
    try:
        born = personnummer.get_birth_date(f"{head}{'+' if '+' in typed else '-'}{tail}")
    except (InvalidComponent, ValidationError):
        return IdCheck(
            typed, errors=[_("National ID: the date in the personnummer is not a real date.")]
        )
    if today is not None and born > today:
        return IdCheck(typed, errors=[_("National ID: the date in it lies in the future.")])
    issued = digits[:-4] if len(digits) == 12 else f"{born.year // 100}{digits[:-4]}"
    return IdCheck(f"{issued}-{tail}", birth_date=born)


def _cpr(typed: str) -> IdCheck:
    digits = "".join(c for c in typed if c.isdigit())
    if len(digits) != 10 or not all(c.isdigit() or c in " -" for c in typed):
        return IdCheck(
            typed, errors=[_("National ID: a CPR number has 10 digits, as DDMMYY-XXXX.")]
        )
    try:
        born = cpr.get_birth_date(digits)
    except (InvalidComponent, ValidationError):
        return IdCheck(
            typed, errors=[_("National ID: the date in the CPR number is not a real date.")]
        )
    result = IdCheck(f"{digits[:6]}-{digits[6:]}", birth_date=born)
    if cpr.checksum(digits) != 0:
        result.warnings.append(
            _(
                "National ID: the CPR number fails the modulus-11 check. Numbers issued "
                "since 2007 may do so; check it against the health insurance card."
            )
        )
    return result


def birth_date_problems(
    date_of_birth: date, id_birth_date: date | None, screened_age: int | None, screened_on
) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a date of birth: it must be the date in the national ID; it
    should give the age recorded at screening (a mistyped age there is possible)."""
    errors, warnings = [], []
    if id_birth_date is not None and date_of_birth != id_birth_date:
        errors.append(
            _("Date of birth: it differs from the date in the national ID (%(day)s).")
            % {"day": f"{id_birth_date:%Y-%m-%d}"}
        )
    if screened_age is not None and screened_on is not None:
        age = age_on(date_of_birth, screened_on)
        if age != screened_age:
            warnings.append(
                _(
                    "Date of birth: it makes the patient %(age)s on the screening day, "
                    "but the screening recorded %(screened)s."
                )
                % {"age": age, "screened": screened_age}
            )
    return errors, warnings


def age_on(born: date, day: date) -> int:
    years = day.year - born.year
    return years if (day.month, day.day) >= (born.month, born.day) else years - 1
