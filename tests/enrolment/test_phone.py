"""Mobile numbers to E.164 (enrolment.phone), read in the trial's country.
Numbering plans: Swedish mobiles 07x (PTS), Danish numbers 8 digits without trunk
prefix; libphonenumber cannot tell Danish mobiles from landlines, so both pass."""

import re

import pytest

from enrolment.phone import is_e164, normalise
from tests.conftest import use_betterback_built_once

betterback = use_betterback_built_once()  # loaded once for the module


@pytest.mark.parametrize(
    "number,region,expected",
    [
        ("070-123 45 67", "SE", "+46701234567"),
        ("0701234567", "SE", "+46701234567"),
        ("+46 70 123 45 67", "SE", "+46701234567"),
        ("0046701234567", "SE", "+46701234567"),  # international prefix from Sweden
        ("+46701234567", "DK", "+46701234567"),  # a country code wins over the region
        ("20 12 34 56", "DK", "+4520123456"),
        ("+45 20 12 34 56", "DK", "+4520123456"),
        ("004520123456", "SE", "+4520123456"),
        ("20123456", "dk", "+4520123456"),  # region case does not matter
    ],
)
def test_normalise(number, region, expected):
    assert normalise(number, region) == expected


@pytest.mark.parametrize(
    "number,region,message",
    [
        ("08-123 456 78", "SE", "not a mobile number"),  # Stockholm landline
        ("12", "SE", "not a valid phone number for SE"),
        ("0701234567", "DK", "not a valid phone number for DK"),  # Swedish form, Danish trial
        ("abc", "SE", "not a phone number (no digits)"),
        ("+999 1234567", "SE", "unknown country code"),
        ("", "SE", "no phone number given"),
        ("0701234567", "", "unknown region"),
        ("0701234567", "XX", "unknown region"),
    ],
)
def test_invalid_numbers_raise_a_clear_value_error(number, region, message):
    with pytest.raises(ValueError, match=re.escape(message)) as exc:
        normalise(number, region)
    # The message never repeats the number (it may end up in a log).
    digits = "".join(c for c in number if c.isdigit())
    if len(digits) > 3:
        assert digits not in str(exc.value).replace(" ", "")


def test_is_e164():
    assert is_e164("+46701234567")
    assert not is_e164("0701234567")
    assert not is_e164("+46 70 123 45 67")
    assert not is_e164("+4")
    assert not is_e164("+٤٦٧٠١٢٣٤٥٦٧")  # non-ASCII digits


def test_a_number_typed_at_enrolment_is_stored_in_e164_read_in_the_trials_country():
    from enrolment.phone import clean_mobile

    assert clean_mobile("070-123 45 67", "Europe/Stockholm") == "+46701234567"
    assert clean_mobile("20 12 34 56", "Europe/Copenhagen") == "+4520123456"
    assert clean_mobile("  ", "Europe/Stockholm") == ""
    with pytest.raises(ValueError, match="not a mobile number"):
        clean_mobile("08-123 456 78", "Europe/Stockholm")  # a Stockholm landline


def test_the_enrolment_form_explains_a_bad_mobile_number_and_keeps_the_rest(betterback):
    from enrolment.screening_forms import EnrolForm

    form = EnrolForm(
        data={"mobile": "12", "full_name": "Anna Berg", "email": "anna@example.org"},
        trial=betterback,
    )
    assert not form.is_valid()
    [error] = form.errors["mobile"]
    assert error.startswith("Mobile number: not a valid phone number for SE")
    assert "12" not in form.errors["mobile"][0]
    assert form["full_name"].value() == "Anna Berg"  # nothing typed is lost
