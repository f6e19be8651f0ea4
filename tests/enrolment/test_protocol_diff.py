"""The protocol diff is generic: sections, coded entries and fields, no database."""

from enrolment.protocol.reading import read_protocol
from enrolment.protocol_diff import diff

from ..data.amendments import V1, betterback_v2


def test_betterback_v2_diff_names_each_change(tmp_path):
    old = read_protocol(V1).model_dump(mode="json")
    new = read_protocol(betterback_v2(tmp_path)).model_dump(mode="json")
    texts = [c.text() for c in diff(old, new)]
    assert texts[0].startswith("timepoints 9m: added (")
    assert "offset=9" in texts[0] and "instruments=[nrs, odi" in texts[0]
    assert "timepoints 12m: window_after_days 45 -> 60" in texts
    assert "timepoints 6m: removed" in texts
    assert len(texts) == 3


def test_unchanged_protocol_has_no_diff():
    spec = read_protocol(V1).model_dump(mode="json")
    assert diff(spec, spec) == []


def test_any_section_is_diffed_even_one_the_code_does_not_know():
    old = {
        "trial": {"code": "x"},
        "clusters": [
            {
                "code": "C",
                "crossover": "2017-09-18",
                "clinics": [{"code": "EKH", "physiotherapists": 8}],
            }
        ],
    }
    new = {
        "trial": {"code": "x"},
        "clusters": [
            {
                "code": "C",
                "crossover": "2017-10-02",
                "clinics": [{"code": "EKH", "physiotherapists": 9}],
            }
        ],
        "checks": [{"code": "nrs-range", "rule": "0..10"}],
    }
    texts = [c.text() for c in diff(old, new)]
    assert texts[:2] == [
        "clusters C: crossover 2017-09-18 -> 2017-10-02",
        "clusters C: clinics.EKH.physiotherapists 8 -> 9",
    ]
    assert texts[2] == "checks: added [{code: nrs-range, rule: 0..10}]"


def test_list_of_codes_reads_as_added_and_removed():
    old = {"timepoints": [{"code": "3m", "instruments": ["nrs", "pei"]}]}
    new = {"timepoints": [{"code": "3m", "instruments": ["nrs", "pgic"]}]}
    assert [c.text() for c in diff(old, new)] == ["timepoints 3m: instruments +pgic -pei"]
