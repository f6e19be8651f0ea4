"""Print -> fill -> scan -> read -> verify, for real: packs rendered from the PDF the site
prints, ticks drawn on the page images, the pages put through a simulated scanner (slight
rotation and shift, noise, 100 dpi, JPEG) and uploaded as one PDF."""

import random

import pytest

from enrolment.models import Timepoint
from followup.models import Contact
from paper import omr, printing, scanning, simulate
from paper.models import PaperEntry, ScanPage
from questionnaires.instruments import get
from questionnaires.models import Response
from tests.conftest import use_betterback_built_once
from tests.factories import enrol

pytestmark = pytest.mark.heavy
betterback = use_betterback_built_once()  # loaded once for the module


def _scan_of(pdf: bytes, layout: dict, answers: dict, rng, faint=frozenset()) -> list:
    pages = simulate.printed_pages(pdf, 200)
    simulate.fill(pages, layout, answers, 200, faint=set(faint), rng=rng)
    return [simulate.scanner(p, rng) for p in pages]


def _truth(answers: dict, code: str) -> dict:
    return {item: v for (i, item), v in answers.items() if i == code}


@pytest.mark.django_db
def test_every_instrument_of_betterbacks_3_months_round_trips(
    betterback, clinic_west, data_manager
):
    three = Timepoint.objects.get(trial=betterback, code="3m")
    assert three.instruments == [
        "nrs",
        "odi",
        "eq5d3l",
        "bipq",
        "pei",
        "satisfaction",
        "pgic",
        "bb_costs",
    ]
    rng = random.Random(2017)
    scanned, truths = [], {}
    for language in ("sv", "da", "en", "sv"):
        participant = enrol(clinic_west, preferred_language=language)
        printed = printing.pack_for(participant, three)
        answers = simulate.random_answers(printed.pack.layout, rng)
        truths[printed.pack.pk] = answers
        scanned += _scan_of(printing.render([printed]), printed.pack.layout, answers, rng)
    batch = scanning.read_upload(betterback, data_manager, simulate.as_pdf(scanned))

    assert batch.scan_pages.filter(status=ScanPage.MATCHED).count() == len(scanned)
    right = wrong = 0
    for entry in batch.entries.all():
        truth = _truth(truths[entry.pack_id], entry.instrument)
        for item_id, value in truth.items():
            if entry.answers.get(item_id) == value and item_id not in entry.flags:
                right += 1
            else:
                wrong += 1
        # only handwriting is flagged on clean forms: it is typed at verification
        assert set(entry.flags.values()) <= {omr.WRITE}, (entry.instrument, entry.flags)
    assert {e.instrument for e in batch.entries.all()} == set(three.instruments)
    assert right / (right + wrong) >= 0.99, (right, wrong)
    assert right + wrong == 4 * 37  # every item: 34 tick-box, 3 numbers (bb_costs)


@pytest.mark.django_db
def test_doubtful_marks_are_flagged_and_verified_into_the_first_entry(
    betterback, clinic_west, data_manager
):
    three = Timepoint.objects.get(trial=betterback, code="3m")
    participant = enrol(clinic_west, preferred_language="da")
    printed = printing.pack_for(participant, three)
    rng = random.Random(7)
    answers = simulate.random_answers(printed.pack.layout, rng)
    answers[("nrs", "back")] = [3, 7]  # two ticks
    answers[("odi", "q4")] = [1, 4]
    del answers[("pei", "q2")]  # left blank
    del answers[("pgic", "q1")]
    faint = {("odi", "q2"), ("satisfaction", "q1")}
    scan = _scan_of(printing.render([printed]), printed.pack.layout, answers, rng, faint)
    batch = scanning.read_upload(betterback, data_manager, simulate.as_pdf(scan))

    flags = {(e.instrument, i): f for e in batch.entries.all() for i, f in e.flags.items()}
    assert flags == {
        ("nrs", "back"): omr.DOUBLE,
        ("odi", "q4"): omr.DOUBLE,
        ("pei", "q2"): omr.BLANK,
        ("pgic", "q1"): omr.BLANK,
        ("odi", "q2"): omr.FAINT_MARK,
        ("satisfaction", "q1"): omr.FAINT_MARK,
        ("bipq", "q9"): omr.WRITE,
    }
    # a faint mark is offered as read, for the data manager to confirm
    odi = batch.entries.get(instrument="odi")
    assert odi.answers["q2"] == answers[("odi", "q2")]
    assert "back" not in batch.entries.get(instrument="nrs").answers

    # the data manager decides from the scan and verifies: the first paper entry
    nrs = batch.entries.get(instrument="nrs")
    response = scanning.verify_entry(nrs, {"back": 3, "leg": nrs.answers["leg"]}, data_manager)
    assert response.entry == Response.FIRST_ENTRY and response.is_complete
    assert response.mode == Response.STAFF_PAPER and response.answers["back"] == 3
    assert response.entered_by == data_manager
    assert "verified against scan" in response.history.first().history_change_reason
    nrs.refresh_from_db()
    assert nrs.status == PaperEntry.VERIFIED and nrs.response == response
    with pytest.raises(Exception, match="verified already"):
        scanning.verify_entry(nrs, {}, data_manager)

    # the pack came back: its contact is answered and no reminder goes out any more
    contact = Contact.objects.get(participant=participant, timepoint=three)
    assert contact.status == Contact.COMPLETED and contact.next_action_at is None
    assert contact.history.first().history_change_reason.startswith("paper pack returned")

    # a rescan: the verified form stays as it is, the unverified readings are replaced
    pending = set(batch.entries.filter(status=PaperEntry.PENDING).values_list("pk", flat=True))
    again = scanning.read_upload(betterback, data_manager, simulate.as_pdf(scan))
    assert not again.entries.filter(instrument="nrs").exists()
    assert not PaperEntry.objects.filter(pk__in=pending).exists()
    assert again.entries.count() == len(pending)


@pytest.mark.django_db
def test_where_the_protocol_says_so_the_verified_scan_is_the_final_response(
    betterback, clinic_west, data_manager
):
    betterback.paper = {**betterback.paper, "scan_replaces_double_entry": True}
    betterback.save()
    three = Timepoint.objects.get(trial=betterback, code="3m")
    participant = enrol(clinic_west, preferred_language="sv")
    printed = printing.pack_for(participant, three)
    rng = random.Random(3)
    answers = simulate.random_answers(printed.pack.layout, rng)
    scan = _scan_of(printing.render([printed]), printed.pack.layout, answers, rng)
    batch = scanning.read_upload(betterback, data_manager, simulate.as_pdf(scan))
    eq5d = batch.entries.get(instrument="eq5d3l")
    response = scanning.verify_entry(eq5d, eq5d.answers, data_manager)
    assert response.entry == Response.FINAL
    assert response.answers["vas"] == answers[("eq5d3l", "vas")]
    assert response.scores["index"] is not None
    assert get("eq5d3l").score(response.answers, value_set="SE") == response.scores


@pytest.mark.django_db
def test_pages_that_match_no_participant_are_listed_not_dropped(
    betterback, clinic_west, data_manager
):
    three = Timepoint.objects.get(trial=betterback, code="3m")
    participant = enrol(clinic_west, preferred_language="sv")
    printed = printing.pack_for(participant, three)
    rng = random.Random(5)
    pages = _scan_of(printing.render([printed]), printed.pack.layout, {}, rng)
    blank = pages[0] * 0 + 250  # a sheet with no code at all
    printed.pack.delete()  # a pack this site does not know (another installation's)
    batch = scanning.read_upload(betterback, data_manager, simulate.as_pdf([pages[1], blank]))
    rows = list(batch.scan_pages.order_by("number"))
    assert [p.status for p in rows] == [ScanPage.UNMATCHED, ScanPage.UNMATCHED]
    assert "No printed pack" in rows[0].problem and "QR" in rows[1].problem
    assert not batch.entries.exists()
    assert all(bytes(p.image) for p in rows)  # kept, to be looked at


@pytest.mark.django_db
@pytest.mark.parametrize("doubt", [omr.DOUBLE, omr.BLANK, omr.FAINT_MARK])
def test_a_doubtful_mark_is_flagged_on_every_instrument_of_the_3_months(
    betterback, clinic_west, data_manager, doubt
):
    """One pack per kind of doubt, with that doubt on an item of every instrument (a
    number left empty too, for the blank): each is flagged, nothing else is."""
    three = Timepoint.objects.get(trial=betterback, code="3m")
    participant = enrol(clinic_west, preferred_language="sv")
    printed = printing.pack_for(participant, three)
    layout = printed.pack.layout
    rng = random.Random(f"doubt-{doubt}")
    answers = simulate.random_answers(layout, rng)
    values: dict = {}
    for page in layout["pages"]:
        for box in page["boxes"]:
            key = (box["i"], box["q"])
            values.setdefault(key, {"digits": "p" in box, "values": set()})["values"].add(box["v"])
    chosen, faint = {}, set()
    for code in three.instruments:
        ticks = [k for k, v in values.items() if k[0] == code and not v["digits"] and k in answers]
        numbers = [k for k, v in values.items() if k[0] == code and v["digits"] and k in answers]
        key = (ticks or (numbers if doubt == omr.BLANK else []) or [None])[0]
        if key is None:
            continue
        chosen[key] = doubt
        if doubt == omr.DOUBLE:
            other = sorted(values[key]["values"] - {answers[key]})[0]
            answers[key] = [answers[key], other]
        elif doubt == omr.BLANK:
            del answers[key]
        else:
            faint.add(key)
    assert {code for code, _ in chosen} >= set(three.instruments) - {"bb_costs"}
    scan = _scan_of(printing.render([printed]), layout, answers, rng, faint)
    batch = scanning.read_upload(betterback, data_manager, simulate.as_pdf(scan))
    flags = {(e.instrument, i): f for e in batch.entries.all() for i, f in e.flags.items()}
    flags.pop(("bipq", "q9"))  # handwriting, typed at verification
    assert flags == chosen
