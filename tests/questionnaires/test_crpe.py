"""CRPE-tool (BetterBack), version 1.

Source: Abbott et al. 2018, BetterBack protocol (BMJ Open 2018;8:e019906), supplementary
file 1, section 4 "Clinical Reasoning and Process Evaluation tool (CRPE-tool) for
therapists". Line numbers below are those of the protocol text shipped as
/work/shared/seeds/004_b767a39d856ccad1.txt. Scoring: protocol, secondary outcomes,
"A total score ... is calculated from the sum of the functional impairment divided by
the number of functional impairments and a similar total score is calculated for
activity limitations" (lines 1071-1083).
"""

import re
from pathlib import Path

import pytest

from questionnaires.instruments import registry
from questionnaires.instruments.base import CHOICE, CLINICIAN, MULTI, NUMBER, TEXT, YESNO
from questionnaires.instruments.definitions.crpe import (
    ACTIVITY_ITEMS,
    CATEGORY_ICD10,
    FINAL_VISIT_ITEMS,
    IMPAIRMENT_ITEMS,
    first_visit_grades,
    icd10_matches_category,
    treatment_kva_codes,
)

PROTOCOL = Path("/work/shared/seeds/004_b767a39d856ccad1.txt")


@pytest.fixture(scope="module")
def crpe():
    return registry.get("crpe", 1)


def choice_code(item, label_start):
    """The code of the choice whose label starts with ``label_start``."""
    (code,) = [c.code for c in item.choices if c.label.startswith(label_start)]
    return code


# --- the definition ---------------------------------------------------------------------


def test_registered_as_clinician_instrument_version_1(crpe):
    assert crpe.code == "crpe"
    assert crpe.version == 1
    assert crpe.respondent == CLINICIAN
    assert registry.get("crpe") is crpe


def test_item_ids_unique_and_short(crpe):
    ids = crpe.item_ids
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]{0,11}", i) for i in ids)


def test_no_visit_item(crpe):
    # First/final visit is the timepoint of the response, not an item.
    assert not any("visit" in i.text.lower() and i.kind != NUMBER for i in crpe.items)


def test_only_the_category_is_required(crpe):
    # Grades: a physiotherapist grades those that apply (form lines 2924-2926);
    # treatment, visits and effect are recorded at the final assessment only (line 3134).
    assert [i.id for i in crpe.items if i.required] == ["category"]


# --- grade items: protocol lines 2929-3057 --------------------------------------------------


def test_functional_impairment_items(crpe):
    # Lines 2949-3000: 16 rows, of which "Pain (choose relevant category)" has 5 graded
    # sub-rows (lines 2964-2972): 21 graded items.
    assert len(IMPAIRMENT_ITEMS) == 21
    items = [crpe.item(i) for i in IMPAIRMENT_ITEMS]
    assert {i.section for i in items} == {"Functional impairment"}
    codes = {i.id: i.code for i in items}
    assert codes["fi1"] == "PA006"  # line 2949 Energy and drive (motivation)
    assert codes["fi4"] == "PA013"  # line 2958 Thought functions
    assert codes["fi5"] == "PB008"  # line 2960 Sensory function
    assert [codes[f"fi{n}"] for n in range(6, 11)] == ["PB009"] * 5  # lines 2964-2972 Pain
    assert codes["fi11"] == "PD009"  # line 2974 Exercise tolerance
    assert codes["fi18"] == "PG006"  # line 2988 Control of movement
    assert codes["fi20"] == "PG003"  # line 2995 Sensation of muscle stiffness
    assert codes["fi21"] == "PG000"  # line 3000 Mobility of spinal meninges ...
    assert crpe.item("fi9").text.startswith("Pain: pain in another body part")  # line 2970


def test_activity_limitation_items(crpe):
    # Lines 3023-3057: 15 rows.
    assert len(ACTIVITY_ITEMS) == 15
    items = [crpe.item(i) for i in ACTIVITY_ITEMS]
    assert {i.section for i in items} == {"Activity limitation"}
    codes = {i.id: i.code for i in items}
    assert codes["al1"] == "PJ001"  # line 3023 kinesiophobia
    assert codes["al3"] == "PK004"  # line 3027 handling stress
    assert [codes[f"al{n}"] for n in range(4, 10)] == ["PM001"] * 6  # lines 3032-3042
    assert codes["al10"] == "PM004"  # line 3044 lifting and carrying objects
    assert codes["al12"] == "PM008"  # line 3051 moving around in different ways
    assert codes["al15"] == "PS002"  # line 3057 recreation and leisure


def test_grades_are_labelled_0_to_4_and_optional(crpe):
    # Column headings None / Lite / Moderate / Severe / Complete (lines 2932-2944,
    # 3006-3018); "Lite" (Swedish "a little") is given as "Mild".
    for item_id in IMPAIRMENT_ITEMS + ACTIVITY_ITEMS:
        item = crpe.item(item_id)
        assert item.kind == CHOICE
        assert not item.required
        assert [(c.code, c.label) for c in item.choices] == [
            (0, "None"),
            (1, "Mild"),
            (2, "Moderate"),
            (3, "Severe"),
            (4, "Complete"),
        ]


# --- diagnostic subgrouping: protocol lines 3058-3131 -------------------------------------


def test_twelve_categories_each_with_its_row_of_codes(crpe):
    assert len(crpe.item("category").choices) == 12
    assert CATEGORY_ICD10[1] == ("M54.5",)  # line 3069 muscular functional impairment
    assert CATEGORY_ICD10[2] == ("M54.5", "M99.0")  # lines 3071-3072
    assert CATEGORY_ICD10[4] == ("M54.5", "M51.2", "M47.9K")  # lines 3084-3087
    assert CATEGORY_ICD10[7] == ("M54.5", "G96.8", "F45.4")  # lines 3100-3103
    assert CATEGORY_ICD10[9] == ("M53.3",)  # line 3109 SI-joint / coccygodynia
    assert CATEGORY_ICD10[11] == ("M48.0K", "M99.6")  # lines 3121-3123
    assert CATEGORY_ICD10[12] == ("M43.0", "M43.1")  # lines 3130-3131 (Swedish row)


def test_icd10_item_lists_each_code_once_with_code_as_label_prefix(crpe):
    item = crpe.item("icd10")
    assert item.kind == MULTI
    labels = [c.label for c in item.choices]
    assert len(labels) == 17  # distinct codes in lines 3069-3131
    assert "M54.5 Lumbago" in labels  # line 3069
    assert "M99.1K Segmental instability in the lumbar spine" in labels  # lines 3078-3079
    assert "M51.1K Disc degeneration/disc herniation in the lumbar spine with radiculopathy" in (
        labels
    )  # lines 3114-3115
    prefixes = {label.split(" ")[0] for label in labels}
    assert prefixes == {code for codes in CATEGORY_ICD10.values() for code in codes}


def test_icd10_codes_in_the_category_row_are_consistent(crpe):
    icd10 = crpe.item("icd10")
    answers = {
        "category": 2,  # segmental mobility impairment: M54.5, M99.0 (lines 3071-3072)
        "icd10": [choice_code(icd10, "M54.5"), choice_code(icd10, "M99.0")],
    }
    assert icd10_matches_category(answers) == []


def test_icd10_code_from_another_row_is_an_error(crpe):
    icd10 = crpe.item("icd10")
    answers = {
        "category": 1,  # muscular functional impairment: M54.5 only (line 3069)
        "icd10": [choice_code(icd10, "M54.5"), choice_code(icd10, "M99.0")],
    }
    errors = icd10_matches_category(answers)
    assert len(errors) == 1
    assert "M99.0" in errors[0]
    assert "M54.5" in errors[0]  # the message names the codes that do fit


def test_icd10_codes_without_category_is_an_error(crpe):
    answers = {"icd10": [choice_code(crpe.item("icd10"), "M53.3")]}
    assert len(icd10_matches_category(answers)) == 1


def test_no_icd10_code_chosen_is_not_a_mismatch():
    # At the final assessment a new code is circled only "if relevant" (line 3065).
    assert icd10_matches_category({"category": 5}) == []
    assert icd10_matches_category({"category": 5, "icd10": []}) == []


# --- treatment: protocol lines 3132-3263 ---------------------------------------------------


def test_betterback_parts_visits_and_effect(crpe):
    assert crpe.item("bb_part1").kind == YESNO  # line 3135
    assert crpe.item("bb_part2").kind == YESNO  # line 3137
    visits = crpe.item("visits")  # line 2920
    assert (visits.kind, visits.min, visits.max) == (NUMBER, 0, 100)
    effect = crpe.item("effect")  # lines 3256-3263
    assert [c.label for c in effect.choices] == [
        "Much better",
        "Quite much better",
        "Unchanged",
        "Quite much worse",
        "Much worse",
    ]


@pytest.mark.parametrize(
    ("item_id", "n_boxes", "section"),
    [
        ("ex_mode", 3, "Physical exercise"),  # lines 3143-3147
        ("ex_type", 12, "Physical exercise"),  # lines 3151-3173, incl. Other
        ("bm_mode", 2, "Behavioural medicine interventions"),  # lines 3177-3179
        ("bm_type", 7, "Behavioural medicine interventions"),  # lines 3183-3195
        ("mt_type", 8, "Manual therapy"),  # lines 3199-3213
        ("om_type", 5, "Occupational medicine interventions"),  # lines 3217-3225
        ("pm_type", 13, "Physical modalities"),  # lines 3229-3253
    ],
)
def test_treatment_groups(crpe, item_id, n_boxes, section):
    item = crpe.item(item_id)
    assert item.kind == MULTI
    assert len(item.choices) == n_boxes
    assert item.section == section
    assert not item.required


def test_treatment_kva_codes_in_labels(crpe):
    assert "Supervised group training (QV012)" in [
        c.label for c in crpe.item("ex_mode").choices
    ]  # line 3147
    assert "Physical activity prescription (FaR®) (DV002)" in [
        c.label for c in crpe.item("ex_type").choices
    ]  # line 3171
    assert "Motivational interviewing (DU118)" in [
        c.label for c in crpe.item("bm_type").choices
    ]  # line 3189
    assert "Traction (QG001)" in [c.label for c in crpe.item("mt_type").choices]  # line 3211
    assert "Information/education on ergonomics (QV010)" in [
        c.label for c in crpe.item("om_type").choices
    ]  # line 3223
    assert "Acupuncture (DA001)" in [c.label for c in crpe.item("pm_type").choices]  # line 3251
    # line 3143: non-supervised individual training has no KVÅ code
    assert "Non-supervised individual training" in [c.label for c in crpe.item("ex_mode").choices]


def test_other_lines_have_a_text_item(crpe):
    for item_id in ("ex_other", "bm_other", "mt_other", "om_other", "pm_other"):
        assert crpe.item(item_id).kind == TEXT


def test_treatment_kva_codes_are_distinct_and_sorted(crpe):
    pm = crpe.item("pm_type")
    ex_mode = crpe.item("ex_mode")
    answers = {
        # cryotherapy and heat are both QB011 (lines 3231-3233), TENS DA021 (line 3229)
        "pm_type": [
            choice_code(pm, "Cryotherapy"),
            choice_code(pm, "Heat"),
            choice_code(pm, "TENS"),
        ],
        "ex_mode": [choice_code(ex_mode, "Non-supervised")],  # no code (line 3143)
    }
    assert treatment_kva_codes(answers) == ["DA021", "QB011"]
    assert treatment_kva_codes({}) == []


def test_final_visit_items(crpe):
    assert set(FINAL_VISIT_ITEMS) >= {"visits", "bb_part1", "bb_part2", "ex_type", "effect"}
    assert not set(FINAL_VISIT_ITEMS) & set(IMPAIRMENT_ITEMS + ACTIVITY_ITEMS)
    assert "category" not in FINAL_VISIT_ITEMS
    assert all(i in crpe.item_ids for i in FINAL_VISIT_ITEMS)


# --- summary scores, worked by hand ---------------------------------------------------------


def test_impairment_score_mean_of_graded_items(crpe):
    # 3 of 21 impairment items graded 2, 3, 4: (2 + 3 + 4) / 3 = 3.0
    scores = crpe.score({"fi1": 2, "fi6": 3, "fi12": 4})
    assert scores == {
        "impairment_score": 3.0,
        "activity_score": None,
        "impairment_items_graded": 3,
        "activity_items_graded": 0,
    }


def test_activity_score_mean_of_graded_items(crpe):
    # 4 activity items graded 1, 0, 2, 2: 5 / 4 = 1.25; a grade 0 counts as graded.
    scores = crpe.score({"al1": 1, "al5": 0, "al7": 2, "al15": 2, "fi2": None})
    assert scores["activity_score"] == 1.25
    assert scores["activity_items_graded"] == 4
    assert scores["impairment_score"] is None
    assert scores["impairment_items_graded"] == 0


def test_all_items_graded_none_gives_zero_not_missing(crpe):
    scores = crpe.score({i: 0 for i in IMPAIRMENT_ITEMS})
    assert scores["impairment_score"] == 0.0
    assert scores["impairment_items_graded"] == 21


def test_all_items_complete_gives_four(crpe):
    scores = crpe.score({i: 4 for i in IMPAIRMENT_ITEMS + ACTIVITY_ITEMS})
    assert scores["impairment_score"] == 4.0
    assert scores["activity_score"] == 4.0
    assert scores["activity_items_graded"] == 15


def test_nothing_graded_gives_none(crpe):
    scores = crpe.score({"category": 1, "visits": 5})
    assert scores["impairment_score"] is None
    assert scores["activity_score"] is None
    assert scores["impairment_items_graded"] == 0


def test_unrounded(crpe):
    # 1 + 1 + 2 = 4 over 3 items = 1.333...
    assert crpe.score({"fi1": 1, "fi2": 1, "fi3": 2})["impairment_score"] == pytest.approx(4 / 3)


def test_first_visit_grades():
    answers = {"fi1": 2, "fi2": None, "fi3": 0, "al4": 3, "category": 2, "icd10": [1]}
    assert first_visit_grades(answers) == {"fi1": 2, "fi3": 0, "al4": 3}
    assert first_visit_grades({}) == {}


# --- transcription checked against the protocol text itself --------------------------------


def protocol_lines(first, last):
    if not PROTOCOL.exists():
        pytest.skip("protocol text not available")
    lines = PROTOCOL.read_text(encoding="utf-8").splitlines()
    return "\n".join(lines[first - 1 : last])


def test_grade_item_kva_codes_match_protocol_in_order(crpe):
    # Every graded row of the form prints "0 1 2 3 4 <KVÅ code>" (lines 2929-3057).
    printed = re.findall(r"0 1 2 3 4 (P[A-Z]\d{3})", protocol_lines(2929, 3057))
    assert printed == [crpe.item(i).code for i in IMPAIRMENT_ITEMS + ACTIVITY_ITEMS]


def test_icd10_codes_match_protocol_in_order():
    # Category rows, lines 3069-3131, codes in printed order.
    printed = re.findall(r"\b([FGM]\d{2}\.\d[A-Z]?) ", protocol_lines(3069, 3131))
    assert printed == [code for codes in CATEGORY_ICD10.values() for code in codes]


def test_treatment_kva_codes_match_protocol_in_order(crpe):
    # Treatment boxes, lines 3141-3253.
    printed = re.findall(r"\b([QD][A-Z]\d{3})\b", protocol_lines(3141, 3253))
    ours = [
        re.search(r"\(([QD][A-Z]\d{3})\)$", c.label).group(1)
        for item_id in ("ex_mode", "ex_type", "bm_mode", "bm_type", "mt_type", "om_type", "pm_type")
        for c in crpe.item(item_id).choices
        if re.search(r"\(([QD][A-Z]\d{3})\)$", c.label)
    ]
    assert len(printed) == 44  # 45 mode/type boxes, one without a code (line 3143)
    assert printed == ours
