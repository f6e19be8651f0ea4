"""The reply parser (followup.sms.replies): the forms the issue lists, the number words
of Swedish, Danish and English 0-10, STOP words, and what must stay unclear. Pure:
no database. Property tests (hypothesis) over arbitrary text at the end."""

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.sms.replies import (
    AMBIGUOUS_WORD,
    DECIMAL,
    DENOMINATOR,
    EMPTY,
    NO_NUMBER,
    NUMBER,
    NUMBER_WORDS,
    OUT_OF_RANGE,
    SIGN,
    STOP,
    TEXT_BEFORE_NUMBER,
    TWO_NUMBERS,
    UNCLEAR,
    parse_reply,
)

# (text, language, expected value) for a 0-10 question
CLEAN = [
    ("5", "sv", 5),
    (" 5 ", "sv", 5),
    ("\t5\n", "da", 5),
    ("5.", "sv", 5),
    ("5!", "da", 5),
    ("05", "sv", 5),
    ("010", "da", 10),
    ("0", "sv", 0),
    ("10", "da", 10),
    ("5 (bad week)", "en", 5),
    ("5/10", "sv", 5),
    ("5 / 10", "da", 5),
    ("5 av 10", "sv", 5),
    ("5 utav 10", "sv", 5),
    ("5 ud af 10", "da", 5),
    ("5 of 10", "en", 5),
    ("5 tack", "sv", 5),
    ("5, det var en hård uge", "da", 5),  # "en" is an article here, not a second number
    ("5 5", "sv", 5),  # the same number twice is still one answer
    ("5, fem", "sv", 5),
    ("Fem", "sv", 5),
    ("FEM.", "da", 5),
    ("fem (ont)", "sv", 5),
    ("noll", "sv", 0),
    ("ett", "sv", 1),
    ("En.", "sv", 1),
    ("et", "da", 1),
    ("två", "sv", 2),
    ("tva", "sv", 2),  # typed without the ring
    ("Åtta", "sv", 8),
    ("atta", "sv", 8),
    ("nul", "da", 0),
    ("to", "da", 2),
    ("fire", "da", 4),
    ("seks", "da", 6),
    ("syv", "da", 7),
    ("otte", "da", 8),
    ("ni", "da", 9),
    ("ti", "da", 10),
    ("ten", "sv", 10),  # English words in every language
    ("zero", "da", 0),
    ("\uff15", "sv", 5),  # full-width 5 from an East Asian keyboard
    ("5\ufe0f\u20e3", "sv", 5),  # keycap emoji five
    ("😩 7", "sv", 7),  # an emoji before the number is not text
    ("000000000000000000000000000005", "sv", 5),
]


@pytest.mark.parametrize("text,language,value", CLEAN)
def test_clean_answers(text, language, value):
    parsed = parse_reply(text, 0, 10, language)
    assert (parsed.kind, parsed.value, parsed.reason) == (NUMBER, value, "")


UNCLEAR_REPLIES = [
    ("", "sv", EMPTY),
    ("   \n", "sv", EMPTY),
    (None, "sv", EMPTY),
    ("😀", "sv", NO_NUMBER),
    ("👍👍", "da", NO_NUMBER),
    ("🔟", "sv", NO_NUMBER),  # keycap ten is one character, not digits
    ("ok", "sv", NO_NUMBER),
    ("Det var en dålig vecka", "sv", NO_NUMBER),
    ("٥", "sv", NO_NUMBER),  # Arabic-Indic digit: not taken as data
    ("11", "sv", OUT_OF_RANGE),
    ("elva", "sv", NO_NUMBER),
    ("99999999999999999999999999999999999999", "sv", OUT_OF_RANGE),
    ("-1", "sv", SIGN),
    ("+5", "sv", SIGN),
    ("5 or 6", "en", TWO_NUMBERS),
    ("5 eller 6", "sv", TWO_NUMBERS),
    ("5-6", "sv", TWO_NUMBERS),
    ("5 men igår 8", "sv", TWO_NUMBERS),
    ("5 (2 dagar sjuk)", "sv", TWO_NUMBERS),
    ("5 tre", "sv", TWO_NUMBERS),
    ("fem eller sex", "sv", TWO_NUMBERS),
    ("5.5", "sv", DECIMAL),
    ("5,5", "da", DECIMAL),
    (".5", "sv", DECIMAL),
    ("5/7", "sv", DENOMINATOR),
    ("5 af 5", "da", DENOMINATOR),
    ("ca 5", "sv", TEXT_BEFORE_NUMBER),
    ("inte 5", "sv", TEXT_BEFORE_NUMBER),
    ("omkring 5", "da", TEXT_BEFORE_NUMBER),
    ("En dålig vecka", "sv", AMBIGUOUS_WORD),
    ("et dårligt år", "da", AMBIGUOUS_WORD),
    ("one of those weeks", "en", AMBIGUOUS_WORD),
    # Words of the other Nordic language are not guessed at.
    ("tva", "da", NO_NUMBER),
    ("seks", "sv", NO_NUMBER),
    ("ni", "sv", NO_NUMBER),  # Swedish "ni" is "you"
]


@pytest.mark.parametrize("text,language,reason", UNCLEAR_REPLIES)
def test_unclear_replies(text, language, reason):
    parsed = parse_reply(text, 0, 10, language)
    assert (parsed.kind, parsed.value, parsed.reason) == (UNCLEAR, None, reason)


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "Stop.",
        "STOPP",
        "stopp!",
        "Stoppa",
        "afmeld",
        "Afmeld tak",
        "frameld",
        "avsluta",
        "Jag vill avsluta",
        "Please stop",
        "stop 5",  # stop wins over a number
        "5 STOP",
        "unsubscribe",
        "CANCEL",
        "End",
        "quit",
        "sluta",
    ],
)
def test_stop_words(text):
    assert parse_reply(text, 0, 10, "sv") == parse_reply(text, 0, 10, "da")
    parsed = parse_reply(text, 0, 10, "sv")
    assert (parsed.kind, parsed.value) == (STOP, None)


@pytest.mark.parametrize("text", ["5 had to quit work", "slutade 5", "5 end of week"])
def test_common_words_stop_only_as_the_whole_reply(text):
    assert parse_reply(text, 0, 10, "en").kind != STOP


def test_the_range_is_the_question_s():
    # SAFE Q2: days of sick leave in the past week, 0-7.
    assert parse_reply("7", 0, 7, "da").value == 7
    assert parse_reply("otte", 0, 7, "da").reason == OUT_OF_RANGE
    assert parse_reply("8", 0, 7, "da").reason == OUT_OF_RANGE
    assert parse_reply("3/7", 0, 7, "da").value == 3
    assert parse_reply("3/10", 0, 7, "da").reason == DENOMINATOR
    assert parse_reply("0", 1, 10, "sv").reason == OUT_OF_RANGE


def test_language_codes_with_region_and_unknown_languages():
    assert parse_reply("fem", 0, 10, "sv-SE").value == 5
    assert parse_reply("fem", 0, 10, "da_DK").value == 5
    assert parse_reply("fem", 0, 10, "fi").reason == NO_NUMBER  # English words only
    assert parse_reply("five", 0, 10, "fi").value == 5


def test_every_number_word_of_every_language():
    for language, words in NUMBER_WORDS.items():
        for word, value in words.items():
            assert parse_reply(word, 0, 10, language).value == value, (language, word)


# --- properties over arbitrary text --------------------------------------------------------

languages = st.sampled_from(["sv", "da", "en", "", "xx"])


@settings(max_examples=500, deadline=None)
@given(text=st.text(), low=st.integers(-5, 5), high=st.integers(0, 20), language=languages)
def test_never_raises_and_only_in_range_numbers_become_data(text, low, high, language):
    parsed = parse_reply(text, low, high, language)
    assert parsed.kind in (NUMBER, STOP, UNCLEAR)
    if parsed.kind == NUMBER:
        assert low <= parsed.value <= high
        assert parsed.reason == ""
    else:
        assert parsed.value is None


ALL_WORDS = set().union(*(w.keys() for w in NUMBER_WORDS.values()))


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=string.ascii_letters + " .,!?()", max_size=40))
def test_text_without_digits_or_number_words_is_never_data(text):
    # Words as the parser reads them: runs of letters ("TWO?A" holds "two").
    words = set(re.findall(r"[a-z]+", text.lower()))
    if not words & ALL_WORDS:
        assert parse_reply(text, 0, 10, "sv").kind != NUMBER


@settings(max_examples=300, deadline=None)
@given(
    value=st.integers(0, 10),
    zeros=st.integers(0, 3),
    before=st.sampled_from(["", " ", "  ", "\n"]),
    after=st.sampled_from(["", ".", "!", " ", " (bad week)", " tack", "/10", " av 10"]),
)
def test_decorated_numbers_parse_to_themselves(value, zeros, before, after):
    text = f"{before}{'0' * zeros}{value}{after}"
    assert parse_reply(text, 0, 10, "sv").value == value


@settings(max_examples=200, deadline=None)
@given(a=st.integers(0, 10), b=st.integers(0, 10), sep=st.sampled_from([" or ", "-", " ", ", "]))
def test_two_different_numbers_are_never_data(a, b, sep):
    parsed = parse_reply(f"{a}{sep}{b}", 0, 10, "en")
    if a != b:
        assert parsed.kind == UNCLEAR
    else:
        assert parsed.value == a
