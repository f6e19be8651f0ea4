"""Understanding an SMS reply to a tracking question: a pure function, no database.

``parse_reply(text, minimum, maximum, language)`` returns a :class:`ParsedReply` of one
of three kinds: ``number`` (a clean answer, ``value`` set), ``stop`` (the participant
wants no more SMS) or ``unclear`` (``reason`` says why; the caller asks again once and
keeps the raw text). It never raises on any text, so a webhook can always store the raw
message first and interpret it second.

The rules, chosen so that only clean answers become data:

- The reply must START with the answer: digits (``5``, ``05``, ``5.``, ``5!``) or a
  number word of the participant's language or English (``fem``, ``Fem``, ``tva``/``två``).
  Text before it (``ca 5``, ``inte 5``, ``-5``) makes it unclear: a qualifier or a sign
  changes the meaning and we cannot tell how.
- After the answer: an optional "out of" the maximum (``5/10``, ``5 av 10``, ``5 ud af
  10``, ``5 of 10``; any other denominator is unclear), then any comment (``5 (bad
  week)``, ``5 tack``). The comment is kept by the caller as raw text, not interpreted,
  except that it may not name a different number (``5 or 6``, ``5-6``, ``5 men igår 8``).
- Decimals (``5.5``, ``5,5``) are unclear: the scales take whole numbers, and ``5,5``
  may as well be a list.
- The articles that are also the word for one (sv ``en``/``ett``, da ``en``/``et``, en
  ``one``) count as an answer only when nothing but punctuation or a parenthesised
  comment follows (``En.`` is 1; ``En dålig vecka`` is unclear), and never count as a
  competing number inside a comment.
- STOP wins over everything: a stop word anywhere in the reply (``STOP``, ``stopp``,
  ``Stop 5``, ``please stop``) stops all SMS. Stopping by mistake costs one message from
  the coordinator; not stopping pesters someone who asked us not to. ``avsluta`` (sv,
  "end") counts; the common words Twilio also treats as opt-out (``cancel``, ``end``,
  ``quit``, sv ``sluta``) count only as the whole reply, because they also occur in
  comments ("had to quit work").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

NUMBER = "number"
STOP = "stop"
UNCLEAR = "unclear"

# Reasons of an unclear reply (stable codes: the caller may choose its clarification by them).
EMPTY = "empty"
NO_NUMBER = "no_number"
TEXT_BEFORE_NUMBER = "text_before_number"
SIGN = "sign"
DECIMAL = "decimal"
DENOMINATOR = "denominator"
TWO_NUMBERS = "two_numbers"
AMBIGUOUS_WORD = "ambiguous_word"
OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True)
class ParsedReply:
    value: int | None
    kind: str  # NUMBER, STOP or UNCLEAR
    reason: str = ""


# Number words 0-10, written without diacritics: the text is folded the same way, so
# "två" and "tva", "åtta" and "atta" both match.
NUMBER_WORDS = {
    "sv": {
        "noll": 0, "en": 1, "ett": 1, "tva": 2, "tre": 3, "fyra": 4, "fem": 5,
        "sex": 6, "sju": 7, "atta": 8, "nio": 9, "tio": 10,
    },
    "da": {
        "nul": 0, "en": 1, "et": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5,
        "seks": 6, "syv": 7, "otte": 8, "ni": 9, "ti": 10,
    },
    "nb": {
        "null": 0, "en": 1, "ett": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5,
        "seks": 6, "sju": 7, "syv": 7, "atte": 8, "ni": 9, "ti": 10,
    },
    "en": {
        "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
        "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    },
}  # fmt: skip
# Number words that are also an article or pronoun ("en dålig vecka", "one of those").
HOMOGRAPHS = {"sv": {"en", "ett"}, "da": {"en", "et"}, "nb": {"en", "ett"}, "en": {"one"}}

STOP_ANYWHERE = {
    "stop", "stopp", "stoppa", "stopall", "unsubscribe",  # en, and sv/da spellings
    "avsluta", "avanmal", "avregistrera",  # sv: end, unregister
    "afmeld", "afmelde", "frameld",  # da: unsubscribe
    "avslutt", "avmeld", "avmelde",  # nb: end, unsubscribe
}  # fmt: skip
STOP_WHOLE = {"cancel", "end", "quit", "sluta"}

TOKEN = re.compile(r"[0-9]+|[^\W\d_]+")  # a run of ASCII digits, or of letters
DIGITS = re.compile(r"[0-9]+")
LETTERS = re.compile(r"[^\W\d_]+")
# 5.5, 5,5 and .5 (but not "5." or "5, 5")
DECIMAL_NUMBER = re.compile(r"[0-9][.,][0-9]|(?:^|[^0-9.,])[.,][0-9]")
OUT_OF = re.compile(r"\s*(?:/|\b(?:av|utav|af|ud af|of|out of)\b)\s*([0-9]+)")
PARENTHESISED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
MAX_DIGITS = 6  # longer digit runs are out of range anyway; int() of huge runs is slow


def parse_reply(
    text: str | None, minimum: int = 0, maximum: int = 10, language: str = "en"
) -> ParsedReply:
    """Interpret one reply to a question whose answers are the whole numbers
    ``minimum``..``maximum`` (inclusive), for a participant writing ``language``."""
    folded = _fold(text or "")
    if not folded.strip():
        return _unclear(EMPTY)
    letters = LETTERS.findall(folded)
    if STOP_ANYWHERE.intersection(letters) or (
        len(letters) == 1 and letters[0] in STOP_WHOLE and not DIGITS.search(folded)
    ):
        return ParsedReply(None, STOP, "stop_word")

    table, homographs = _words_for(language)
    tokens = list(TOKEN.finditer(folded))
    numbers = [t for t in tokens if _value(t.group(), table) is not None]
    # An article ("det var en dålig vecka") is a number only as the first word.
    if not any(t.group() not in homographs or t is tokens[0] for t in numbers):
        return _unclear(NO_NUMBER)
    if DECIMAL_NUMBER.search(folded):
        return _unclear(DECIMAL)
    first = tokens[0]
    answer = _value(first.group(), table)
    if answer is None:
        return _unclear(TEXT_BEFORE_NUMBER)
    if re.search(r"[-+\u2212]", folded[: first.start()]):
        return _unclear(SIGN)

    rest = folded[first.end() :]
    out_of = OUT_OF.match(rest)
    if out_of:
        if _value(out_of.group(1), table) != maximum:
            return _unclear(DENOMINATOR)
        rest = rest[out_of.end() :]
    for token in TOKEN.finditer(rest):
        other = None if token.group() in homographs else _value(token.group(), table)
        if other is not None and other != answer:
            return _unclear(TWO_NUMBERS)
    if first.group() in homographs and TOKEN.search(PARENTHESISED.sub(" ", rest)):
        return _unclear(AMBIGUOUS_WORD)
    if not minimum <= answer <= maximum:
        return _unclear(OUT_OF_RANGE)
    return ParsedReply(answer, NUMBER)


def _unclear(reason: str) -> ParsedReply:
    return ParsedReply(None, UNCLEAR, reason)


def _fold(text: str) -> str:
    """Compatibility forms (full-width and superscript digits) to plain ones, lower case,
    diacritics removed (å -> a, ä -> a; ø and æ have no decomposition and stay)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words_for(language: str) -> tuple[dict[str, int], set[str]]:
    """The language's number words and English ones (no word means different numbers in
    the two); an unknown language gets English only."""
    code = (language or "").lower().split("-")[0].split("_")[0]
    table = dict(NUMBER_WORDS["en"])
    table.update(NUMBER_WORDS.get(code, {}))
    return table, HOMOGRAPHS["en"] | HOMOGRAPHS.get(code, set())


def _value(token: str, table: dict[str, int]) -> int | None:
    if token.isascii() and token.isdigit():
        digits = token.lstrip("0") or "0"
        return int(digits) if len(digits) <= MAX_DIGITS else 10**MAX_DIGITS
    return table.get(token)
