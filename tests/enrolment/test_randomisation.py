"""Permuted-block randomisation lists (enrolment.randomisation): pure, no database.

Properties of permuted blocks as in Schulz & Grimes, Lancet 2002 ("Generation of
allocation sequences in randomised trials"): within every block the arms appear in the
allocation ratio, so each stratum is balanced at the end of every block; random block
sizes make the end of a block hard to guess. Lists are generated whole blocks at a time,
as R's blockrand does ("at least n").
"""

import csv
import hashlib
import io
from collections import Counter

import pytest

from enrolment.randomisation.checks import balance_report, imbalance_beyond_blocks, list_fingerprint
from enrolment.randomisation.generate import Slot, generate_list
from enrolment.randomisation.upload import ListError, parse_uploaded_list

ARMS = ["control", "intervention"]
SELFBACK_STRATA = [("DK",), ("NO",)]


def make(**overrides):
    kwargs = dict(
        arms=ARMS,
        strata=SELFBACK_STRATA,
        block_sizes=[2, 4, 6],
        length_per_stratum=120,
        seed=424242,
    )
    kwargs.update(overrides)
    return generate_list(**kwargs)


def of_stratum(slots, stratum):
    return [s for s in slots if s.stratum == stratum]


def blocks(slots):
    """Slots of one stratum grouped by block number, in order."""
    grouped = {}
    for s in slots:
        grouped.setdefault(s.block, []).append(s)
    return list(grouped.values())


# --- determinism and independence ---------------------------------------------------------


def test_same_seed_gives_the_same_list():
    assert make() == make()


def test_another_seed_gives_another_list():
    assert [s.arm for s in make(seed=1)] != [s.arm for s in make(seed=2)]


def test_pinned_list_for_a_known_seed():
    """Regression pin: a stored list must be reproducible from its seed on any machine
    and Python version (hashlib and random.Random seeded with an int are both stable).
    If this fails, the algorithm changed and old seeds no longer reproduce old lists."""
    slots = generate_list(
        arms=ARMS,
        strata=SELFBACK_STRATA,
        block_sizes=[2, 4],
        length_per_stratum=8,
        seed=20240101,
    )
    short = {"control": "C", "intervention": "I"}
    dk = "".join(short[s.arm] for s in of_stratum(slots, ("DK",)))
    no = "".join(short[s.arm] for s in of_stratum(slots, ("NO",)))
    assert dk == "ICICCIIC"
    assert no == "CICIICIC"
    assert [s.block_size for s in of_stratum(slots, ("NO",))] == [2, 2, 2, 2, 4, 4, 4, 4]


def test_strata_order_does_not_change_any_stratum_list():
    forward = make(strata=[("DK",), ("NO",)])
    backward = make(strata=[("NO",), ("DK",)])
    for stratum in SELFBACK_STRATA:
        assert of_stratum(forward, stratum) == of_stratum(backward, stratum)


def test_adding_a_stratum_does_not_change_the_others():
    alone = make(strata=[("DK",)])
    with_more = make(strata=[("SE",), ("DK",), ("NO",)])
    assert of_stratum(with_more, ("DK",)) == alone


def test_strata_get_different_sequences():
    slots = make()
    dk = [s.arm for s in of_stratum(slots, ("DK",))]
    no = [s.arm for s in of_stratum(slots, ("NO",))]
    assert dk != no


def test_order_of_arms_and_block_sizes_does_not_matter():
    reference = make(ratio=[2, 1], block_sizes=[3, 6])
    swapped = make(arms=["intervention", "control"], ratio=[1, 2], block_sizes=[6, 3])
    assert swapped == reference


def test_strata_are_listed_in_the_order_given_then_by_sequence():
    slots = make(strata=[("NO",), ("DK",)], length_per_stratum=10)
    strata_in_order = list(dict.fromkeys(s.stratum for s in slots))
    assert strata_in_order == [("NO",), ("DK",)]
    for stratum in strata_in_order:
        sequences = [s.sequence for s in of_stratum(slots, stratum)]
        assert sequences == list(range(1, len(sequences) + 1))


def test_multi_key_strata():
    strata = [("DK", "male"), ("DK", "female"), ("NO", "male"), ("NO", "female")]
    slots = make(strata=strata, length_per_stratum=20)
    assert set(balance_report(slots)) == set(strata)


def test_unstratified_list():
    slots = make(strata=[()], length_per_stratum=10)
    assert {s.stratum for s in slots} == {()}
    assert len(slots) >= 10


# --- blocks and balance ----------------------------------------------------------------------


def test_balanced_at_the_end_of_every_block():
    for stratum in SELFBACK_STRATA:
        counts = Counter()
        for block in blocks(of_stratum(make(), stratum)):
            counts.update(s.arm for s in block)
            assert counts["control"] == counts["intervention"]


def test_every_block_is_complete_and_numbered_in_order():
    for stratum in SELFBACK_STRATA:
        grouped = blocks(of_stratum(make(), stratum))
        assert [b[0].block for b in grouped] == list(range(1, len(grouped) + 1))
        for block in grouped:
            assert len({s.block_size for s in block}) == 1
            assert len(block) == block[0].block_size


def test_length_is_reached_with_whole_blocks():
    # At least 25 slots, and never a whole extra block beyond what was needed.
    for stratum in SELFBACK_STRATA:
        slots = of_stratum(make(length_per_stratum=25), stratum)
        last_block = blocks(slots)[-1]
        assert len(slots) >= 25
        assert len(slots) - len(last_block) < 25


def test_each_block_size_is_drawn():
    # 120 slots in blocks of 2-6 is at least 20 blocks per stratum: the chance that one
    # of three sizes never comes up is below 3 * (2/3)**20 < 0.1%, and the seed is fixed.
    for stratum in SELFBACK_STRATA:
        sizes = {b[0].block_size for b in blocks(of_stratum(make(), stratum))}
        assert sizes == {2, 4, 6}


def test_permutations_vary_within_blocks_of_the_same_size():
    # Not the same fixed pattern every time: blocks of 4 show more than one ordering.
    slots = make(block_sizes=[4], length_per_stratum=200)
    patterns = {tuple(s.arm for s in b) for b in blocks(of_stratum(slots, ("DK",)))}
    # The six orderings of two of each arm, listed by hand.
    c, i = "control", "intervention"
    six = {(c, c, i, i), (c, i, c, i), (c, i, i, c), (i, c, c, i), (i, c, i, c), (i, i, c, c)}
    assert len(patterns) > 1
    assert patterns <= six


def test_single_block_size_gives_fixed_blocks():
    slots = make(block_sizes=[4], length_per_stratum=10)
    dk = of_stratum(slots, ("DK",))
    assert len(dk) == 12  # three blocks of 4: 10 rounded up to whole blocks
    assert {s.block_size for s in dk} == {4}


def test_ratio_two_to_one():
    slots = make(ratio=[1, 2], block_sizes=[3, 6], length_per_stratum=60)
    for stratum in SELFBACK_STRATA:
        counts = Counter()
        for block in blocks(of_stratum(slots, stratum)):
            in_block = Counter(s.arm for s in block)
            assert in_block["intervention"] == 2 * in_block["control"]
            counts.update(in_block)
            assert counts["intervention"] == 2 * counts["control"]
        assert {b[0].block_size for b in blocks(of_stratum(slots, stratum))} == {3, 6}


def test_three_arms():
    slots = make(arms=["a", "b", "c"], block_sizes=[3, 6], length_per_stratum=30)
    for counts in balance_report(slots).values():
        assert counts["a"] == counts["b"] == counts["c"]


# --- invalid input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"block_sizes": [4, 5]}, "block size 5 is not a multiple of 2"),
        ({"ratio": [2, 1], "block_sizes": [3, 4]}, "block size 4 is not a multiple of 3"),
        ({"block_sizes": []}, "block_sizes must be a non-empty list"),
        ({"block_sizes": [0]}, "positive whole numbers"),
        ({"block_sizes": [4, 4]}, "block size listed more than once"),
        ({"arms": ["control", "control"]}, "arm listed more than once: control"),
        ({"arms": ["control"]}, "at least two arms"),
        ({"arms": []}, "arms must be a non-empty list"),
        ({"arms": ["control", ""]}, "non-empty strings"),
        ({"ratio": [1, 1, 1]}, "ratio has 3 numbers for 2 arms"),
        ({"ratio": [1, 0]}, "ratio must hold whole numbers of at least 1"),
        ({"strata": []}, "strata must be a non-empty list"),
        ({"strata": ["DK"]}, "each stratum must be a tuple"),
        ({"strata": [("DK",), ("DK",)]}, "stratum listed more than once"),
        ({"strata": [("DK",), ("DK", "male")]}, "all strata must have 1 value"),
        ({"strata": [("",)]}, "stratum values must be non-empty strings"),
        ({"length_per_stratum": 0}, "length_per_stratum must be at least 1"),
        ({"seed": "42"}, "seed must be a whole number"),
    ],
)
def test_invalid_input_is_refused_with_a_clear_message(overrides, message):
    with pytest.raises(ValueError, match=message):
        make(**overrides)


# --- uploaded lists ------------------------------------------------------------------------------


def read_csv(text):
    return csv.DictReader(io.StringIO(text))


def test_upload_is_read_in_stratum_then_sequence_order():
    text = "\n".join(
        [
            "country,sequence,arm",
            "NO,2,control",
            "DK,1,intervention",
            "NO,1,intervention",
            "DK,2,control",
        ]
    )
    slots = parse_uploaded_list(read_csv(text), ARMS, ["country"])
    assert slots == [
        Slot(("NO",), 1, "intervention"),
        Slot(("NO",), 2, "control"),
        Slot(("DK",), 1, "intervention"),
        Slot(("DK",), 2, "control"),
    ]


def test_upload_trims_spaces_and_reads_optional_block_columns():
    text = "country,sequence,arm,block,block_size\n DK , 1 , control ,1,2\nDK,2,intervention,1,2\n"
    slots = parse_uploaded_list(read_csv(text), ARMS, ["country"])
    assert slots[0] == Slot(("DK",), 1, "control", 1, 2)
    assert slots[1].block_size == 2


def test_generated_list_survives_a_round_trip_through_csv():
    generated = make(length_per_stratum=30)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["country", "sequence", "arm", "block", "block_size"])
    for s in generated:
        writer.writerow([*s.stratum, s.sequence, s.arm, s.block, s.block_size])
    parsed = parse_uploaded_list(
        read_csv(out.getvalue()), ARMS, ["country"], strata=SELFBACK_STRATA
    )
    assert parsed == generated
    assert list_fingerprint(parsed) == list_fingerprint(generated)


def test_every_row_problem_is_reported_with_its_line():
    # Line 1 is the header, as the coordinator's spreadsheet shows it.
    text = (
        "country,sex,sequence,arm\n"  # 1
        "DK,male,1,control\n"  # 2  fine
        "DK,male,2,Control\n"  # 3  arm in the wrong case
        "DK,,3,control\n"  # 4  empty stratum value
        "DK,male,x,control\n"  # 5  sequence not a number
        "DK,male,0,control\n"  # 6  sequence below 1
        "DK,male,1,intervention\n"  # 7  repeats line 2
        "DK,male,5,intervention\n"  # 8  3 and 4 missing before 5 (2 failed on line 3)
        "DK,male,6,intervention,extra\n"  # 9  more values than columns
        "DK,male,7\n"  # 10 arm empty
        "SE,male,1,control\n"  # 11 unknown stratum
    )
    with pytest.raises(ListError) as caught:
        parse_uploaded_list(
            read_csv(text),
            ARMS,
            ["country", "sex"],
            strata=[("DK", "male"), ("DK", "female")],
        )
    errors = caught.value.errors
    assert [line for line, _ in errors] == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    messages = dict(errors)
    assert messages[1] == "no rows for stratum country=DK, sex=female"
    assert messages[3] == "unknown arm 'Control' (expected one of control, intervention)"
    assert messages[4] == "'sex' is empty"
    assert messages[5] == "'sequence' must be a whole number of at least 1, got 'x'"
    assert messages[6] == "'sequence' must be a whole number of at least 1, got '0'"
    assert messages[7] == "stratum country=DK, sex=male: sequence 1 is already on line 2"
    assert messages[8] == "stratum country=DK, sex=male: sequence 2 to 4 is missing before 5"
    assert messages[9] == "more values than there are columns"
    assert messages[10] == "'arm' is empty"
    assert messages[11] == "unknown stratum country=SE, sex=male"


def test_list_error_is_a_value_error_naming_every_line():
    with pytest.raises(ValueError) as caught:
        parse_uploaded_list(read_csv("country,sequence,arm\nDK,1,x\nDK,2,y\n"), ARMS, ["country"])
    assert isinstance(caught.value, ListError)
    assert "line 2: unknown arm 'x'" in str(caught.value)
    assert "line 3: unknown arm 'y'" in str(caught.value)


def test_single_gap_is_named():
    text = "country,sequence,arm\nDK,1,control\nDK,3,intervention\n"
    with pytest.raises(ListError) as caught:
        parse_uploaded_list(read_csv(text), ARMS, ["country"])
    assert caught.value.errors == [(3, "stratum country=DK: sequence 2 is missing before 3")]


def test_list_not_starting_at_one():
    text = "country,sequence,arm\nDK,2,control\nDK,3,intervention\n"
    with pytest.raises(ListError) as caught:
        parse_uploaded_list(read_csv(text), ARMS, ["country"])
    assert caught.value.errors == [(2, "stratum country=DK: sequence 1 is missing before 2")]


def test_wrong_header_is_reported_on_line_one_and_nothing_else():
    text = "land,seq,arm\nDK,1,control\n"
    with pytest.raises(ListError) as caught:
        parse_uploaded_list(read_csv(text), ARMS, ["country"])
    assert caught.value.errors == [
        (1, "column 'country' is missing"),
        (1, "column 'sequence' is missing"),
        (1, "unknown column 'land'"),
        (1, "unknown column 'seq'"),
    ]


def test_empty_upload_is_an_error():
    with pytest.raises(ListError) as caught:
        parse_uploaded_list(read_csv("country,sequence,arm\n"), ARMS, ["country"])
    assert caught.value.errors == [(1, "the list has no rows")]


def test_upload_from_plain_dicts():
    rows = [{"sequence": "1", "arm": "control"}, {"sequence": "2", "arm": "intervention"}]
    assert parse_uploaded_list(rows, ARMS, []) == [
        Slot((), 1, "control"),
        Slot((), 2, "intervention"),
    ]


# --- fingerprint and balance report ----------------------------------------------------------


def test_fingerprint_is_sha256_of_the_sorted_canonical_json():
    slots = [Slot(("DK",), 2, "intervention", 1, 2), Slot(("DK",), 1, "control", 1, 2)]
    canonical = b'[[["DK"],1,"control"],[["DK"],2,"intervention"]]'
    assert list_fingerprint(slots) == hashlib.sha256(canonical).hexdigest()


def test_fingerprint_ignores_storage_order_but_not_content():
    slots = make(length_per_stratum=20)
    assert list_fingerprint(list(reversed(slots))) == list_fingerprint(slots)
    first = slots[0]
    other_arm = "control" if first.arm == "intervention" else "intervention"
    tampered = [Slot(first.stratum, first.sequence, other_arm), *slots[1:]]
    assert list_fingerprint(tampered) != list_fingerprint(slots)
    assert list_fingerprint(slots[:-1]) != list_fingerprint(slots)


def test_balance_report_counts_per_stratum_and_arm():
    slots = [
        Slot(("DK",), 1, "control"),
        Slot(("DK",), 2, "intervention"),
        Slot(("DK",), 3, "intervention"),
        Slot(("NO",), 1, "intervention"),
    ]
    assert balance_report(slots, ARMS) == {
        ("DK",): {"control": 1, "intervention": 2},
        ("NO",): {"control": 0, "intervention": 1},
    }


def test_balance_report_of_a_generated_list_matches_its_length():
    slots = make(length_per_stratum=40)
    report = balance_report(slots, ARMS)
    for stratum in SELFBACK_STRATA:
        counts = report[stratum]
        assert counts["control"] == counts["intervention"]
        assert sum(counts.values()) == len(of_stratum(slots, stratum))


def test_balance_report_refuses_an_arm_it_was_not_told_about():
    with pytest.raises(ValueError, match="unknown arm"):
        balance_report([Slot(("DK",), 1, "placebo")], ARMS)


# --- lists that permuted blocks cannot give ---------------------------------------------


def test_generated_lists_are_within_what_their_blocks_allow():
    for seed in range(20):
        slots = make(seed=seed, block_sizes=[2, 4, 6], length_per_stratum=60)
        assert imbalance_beyond_blocks(slots, ARMS, [2, 4, 6]) == []
    ratio_slots = make(seed=3, block_sizes=[3, 6], ratio=[2, 1], length_per_stratum=60)
    assert imbalance_beyond_blocks(ratio_slots, ARMS, [3, 6], ratio=[2, 1]) == []


def test_a_list_with_every_slot_in_one_arm_is_found_at_the_first_impossible_slot():
    slots = [Slot(("DK",), n, "control") for n in range(1, 41)]
    [finding] = imbalance_beyond_blocks(slots, ARMS, [2, 4, 6])
    assert finding.startswith("stratum DK: after slot 7 the arms have control 7, intervention 0")
