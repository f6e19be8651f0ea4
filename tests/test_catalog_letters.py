"""Swedish, Danish and Norwegian text uses å, ä, ö, æ and ø, never ASCII stand-ins
("vaerst" for "værst", "manad" for "månad"): every translation in the catalogs and every
Swedish, Danish or Norwegian text in the protocol files (SMS wording, timepoint labels)
is read."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORD = re.compile(r"[^\W\d_]+")
# ae/oe/aa stand for æ/ø/å (Danish) and ä/ö/å (Swedish); no native word of either
# language here has them, so any word with one is a stand-in unless listed as real.
DIGRAPH = re.compile(r"ae|oe|aa")
REAL_WORDS = {
    "betterback",  # names and loanwords that have these letters in every language
    "israel",
    "michael",
    "poesi",
    "aerob",
    "aerobic",
    "kontoen",  # Danish "the account": konto + the definite -en, a real o-e
    "noe",  # Norwegian "something", "someone": a real o-e
    "noen",
    "poeng",  # Norwegian "points", "score": a real o-e
    "datoen",  # Danish/Norwegian "the date(s)": dato + -en, -erne, -ene
    "datoerne",
    "datoene",
    "dataene",  # Danish/Norwegian "the data": data + -ene
}
# Compounds end in a real word: "fødselsdatoen" (the date of birth), "inklusionsdatoen".
REAL_TAILS = ("datoen", "datoene", "datoerne", "kontoen")
# Stand-ins that drop the dots or the ring instead (a list of those met, not a rule).
KNOWN_STAND_INS = {
    "sv": {
        "manad",
        "manader",
        "fraga",
        "fragor",
        "fragan",
        "smarta",
        "smartan",
        "langre",
        "vardcentral",
        "forsta",
        "sjalv",
        "halsa",
        "kanner",
        "dalig",
        "battre",
        "samre",
    },
    "da": {"vaerst", "spoergsmaal", "maaned", "maaneder", "foerst", "boern"},
    "nb": {"vaerst", "sporsmal", "maned", "maneder", "forste", "sporreskjema"},
}


def _unquote(chunks: list[str]) -> str:
    return "".join(
        c.encode("latin-1", "backslashreplace").decode("unicode_escape") if "\\" in c else c
        for c in chunks
    )


def catalog_texts(language: str) -> list[tuple[str, str]]:
    """(where, msgstr) of every translation in locale/<language>/LC_MESSAGES/django.po."""
    path = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    out, current, where, n = [], None, "", 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("msgstr"):
            current = [re.search(r'"(.*)"', line).group(1)]
            where = f"{path.relative_to(ROOT)}:{n}"
        elif line.startswith('"') and current is not None:
            current.append(line[1:-1])
        else:
            if current:
                out.append((where, "".join(current)))
            current = None
    if current:
        out.append((where, "".join(current)))
    return out


def protocol_texts(language: str) -> list[tuple[str, str]]:
    """(where, text) of every string under a key named after the language."""
    out = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == language and isinstance(value, str):
                    out.append((f"{where}.{key}", value))
                else:
                    walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    for path in sorted((ROOT / "protocols").glob("*.toml")):
        walk(tomllib.loads(path.read_text(encoding="utf-8")), path.name)
    return out


# Danish nouns in -a inflect with -er, -et, -erne ("skema": "spørgeskemaer", "-skemaet").
DANISH_INFLECTION = re.compile(r"ae(?=(?:t|ts|r|rs|rne|rnes)$)")
# Norwegian ones with -er, -et, -ene ("spørreskjemaene").
NORWEGIAN_INFLECTION = re.compile(r"ae(?=(?:t|ts|r|rs|ne|nes)$)")


def stand_ins(language: str, text: str) -> list[str]:
    def suspect(word: str) -> bool:
        if word in KNOWN_STAND_INS[language]:
            return True
        if language == "da":
            word = DANISH_INFLECTION.sub("a-e", word)
        if language == "nb":
            word = NORWEGIAN_INFLECTION.sub("a-e", word)
        return (
            bool(DIGRAPH.search(word))
            and word not in REAL_WORDS
            and not word.endswith(REAL_TAILS)
        )

    return sorted(w for w in {w.lower() for w in WORD.findall(text)} if suspect(w))


def test_the_check_finds_the_stand_ins_it_is_for():
    assert stand_ins("da", "10 (vaerst tænkelige smerte)") == ["vaerst"]
    assert stand_ins("sv", "Hur manga manader?") == ["manader"]
    assert stand_ins("da", "10 (værst tænkelige smerte)") == []
    assert stand_ins("sv", "Svara utifrån den senaste veckan, BetterBack.") == []
    assert stand_ins("da", "spørgeskemaet og spørgeskemaerne") == []


@pytest.mark.parametrize("language", ["sv", "da", "nb"])
def test_no_ascii_stand_ins_in_the_texts(language):
    texts = catalog_texts(language) + protocol_texts(language)
    assert len(texts) > 100
    found = [(where, stand_ins(language, text)) for where, text in texts]
    found = [f"{where}: {words}" for where, words in found if words]
    assert not found, "ASCII stand-ins for å ä ö æ ø:\n" + "\n".join(found)
