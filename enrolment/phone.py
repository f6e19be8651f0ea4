"""Mobile numbers in E.164 (``+46701234567``), the only form stored and sent.

A number typed without a country code is read in the trial's country (``SE`` for
BetterBack, ``DK`` for SAFE). Error messages never repeat the number: they end up in
logs and form errors that are not meant to hold personal data.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalise(number: str, region: str) -> str:
    """``number`` in E.164, read in ``region`` (ISO 3166 alpha-2) when it has no
    country code; ValueError when it is not a valid mobile number."""
    region = (region or "").upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown region {region!r} for phone numbers")
    if not number or not number.strip():
        raise ValueError("no phone number given")
    try:
        parsed = phonenumbers.parse(number, region)
    except NumberParseException as exc:
        raise ValueError(
            f"not a phone number ({_PARSE_ERRORS.get(exc.error_type, 'unreadable')})"
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        where = phonenumbers.region_code_for_number(parsed) or region
        raise ValueError(
            f"not a valid phone number for {where} (check the digits and the country code)"
        )
    if phonenumbers.number_type(parsed) not in MOBILE_TYPES:
        raise ValueError("not a mobile number: SMS needs a mobile phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_e164(number: str) -> bool:
    """Already in the stored form: what the backends accept without parsing again."""
    return (
        isinstance(number, str)
        and number.startswith("+")
        and number[1:].isascii()
        and number[1:].isdigit()
        and 8 <= len(number) <= 16
    )


_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "no digits",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_LONG: "too long",
}


# The country a number without a country code is read in: the trial's, from its time
# zone (the protocol files name a zone, not a country).
REGION_OF_ZONE = {
    "Europe/Stockholm": "SE",
    "Europe/Copenhagen": "DK",
    "Europe/Oslo": "NO",
    "Europe/Helsinki": "FI",
    "Europe/London": "GB",
    "Europe/Berlin": "DE",
    "Europe/Amsterdam": "NL",
    "America/New_York": "US",
    "America/Chicago": "US",
    "America/Los_Angeles": "US",
}


def region_of(time_zone: str) -> str:
    return REGION_OF_ZONE.get(time_zone, "")


def clean_mobile(number: str, time_zone: str) -> str:
    """A mobile number typed at data entry, as stored: E.164, or '' when none was given.
    ValueError with a message fit for the form (it never repeats the number)."""
    if not (number or "").strip():
        return ""
    if not number.strip().startswith("+") and not region_of(time_zone):
        raise ValueError("give the number with its country code, e.g. +46 70 123 45 67")
    return normalise(number, region_of(time_zone) or "SE")
