"""National ID checks (issue 15 finding 4): plain functions, no database."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from enrolment.national_id import birth_date_problems, check, normalise

TODAY = date(2026, 11, 30)


def personnummer(born: date, serial: int, coordination: bool = False) -> str:
    day = born.day + (60 if coordination else 0)
    base = f"{born:%y%m}{day:02d}{serial:03d}"
    return f"{born:%Y}{base[2:6]}-{base[6:]}{luhn.calc_check_digit(base)}"


# Under 100: a 10-digit number of someone older carries "+" instead of "-".
dates = st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31))


@settings(max_examples=60, deadline=None)
@given(born=dates, serial=st.integers(0, 999), coordination=st.booleans())
def test_every_valid_personnummer_passes_in_both_lengths_and_gives_its_birth_date(
    born, serial, coordination
):
    twelve = personnummer(born, serial, coordination)
    ten = twelve[2:]
    for typed in (twelve, ten, twelve.replace("-", ""), ten.replace("-", " ")):
        result = check(typed, "SE", TODAY)
        assert result.errors == [] and result.birth_date == born, typed
        assert result.normalised == twelve


@settings(max_examples=60, deadline=None)
@given(born=dates, serial=st.integers(0, 999), wrong=st.integers(1, 9))
def test_a_wrong_check_digit_is_refused_without_repeating_the_number(born, serial, wrong):
    good = personnummer(born, serial)
    bad = good[:-1] + str((int(good[-1]) + wrong) % 10)
    result = check(bad, "SE", TODAY)
    assert result.errors and "check digit" in result.errors[0]
    assert bad not in result.errors[0] and bad[-4:] not in result.errors[0]


def test_personnummer_format_and_date_errors():
    assert "10 or 12 digits" in check("1981-12-28", "SE", TODAY).errors[0]
    feb30 = "810230001"
    assert "not a real date" in check(feb30 + luhn.calc_check_digit(feb30), "SE").errors[0]
    future = personnummer(TODAY + timedelta(days=400), 12)
    assert "future" in check(future, "SE", TODAY).errors[0]


def test_cpr_date_is_checked_and_modulus_11_only_warns():
    good = check("211062-5629", "DK")
    assert good.errors == good.warnings == [] and good.birth_date == date(1862, 10, 21)
    post_2007 = check("0101101234", "DK")  # fails modulus 11: a warning, not a refusal
    assert post_2007.errors == [] and "modulus-11" in post_2007.warnings[0]
    assert post_2007.normalised == "010110-1234" and post_2007.birth_date == date(1910, 1, 1)
    assert "not a real date" in check("310200-6000", "DK").errors[0]
    assert "10 digits" in check("31020060", "DK").errors[0]


def test_countries_without_a_checked_number_keep_it_as_typed():
    assert check("  123 45  678 ", "US") == check("123 45 678", "")
    assert check("  123 45  678 ", "US").normalised == "123 45 678"


def test_normalise_makes_stored_forms_comparable():
    assert normalise("811228-9874", "SE") == normalise("19811228 9874", "SE") == "19811228-9874"
    assert normalise("19800101-0002", "SE") == "198001010002"  # an old unchecked row


def test_date_of_birth_must_match_the_id_and_should_match_the_screened_age():
    born = date(1981, 12, 28)
    assert birth_date_problems(born, born, 44, date(2026, 11, 30)) == ([], [])
    errors, warnings = birth_date_problems(date(1981, 12, 29), born, 40, date(2026, 11, 30))
    assert "differs from the date in the national ID (1981-12-28)" in errors[0]
    assert "44 on the screening day, but the screening recorded 40" in warnings[0]
