"""Screening against the protocol's criteria (BetterBack protocol, "Eligibility criteria";
selfBACK: RMDQ >= 6, Sandal et al. 2021)."""

from enrolment.eligibility import Criterion, assess

BETTERBACK = [
    Criterion("age", "inclusion", "Aged 18-65", {"age_min": 18, "age_max": 65}),
    Criterion("swedish", "inclusion", "Fluent in Swedish"),
    Criterion("pregnancy", "exclusion", "Pregnant"),
]
SELFBACK_RMDQ = Criterion(
    "rmdq", "inclusion", "RMDQ >= 6", {"instrument": "rmdq", "score": "total", "min": 6}
)


def test_eligible_patient():
    result = assess(BETTERBACK, {"swedish": True, "pregnancy": False}, age=40)
    assert result.eligible and result.unmet == () and result.missing == ()


def test_age_boundaries_are_inclusive():
    answers = {"swedish": True, "pregnancy": False}
    assert assess(BETTERBACK, answers, age=18).eligible
    assert assess(BETTERBACK, answers, age=65).eligible
    assert assess(BETTERBACK, answers, age=17).unmet == ("age",)
    assert assess(BETTERBACK, answers, age=66).unmet == ("age",)


def test_an_exclusion_that_applies_makes_the_patient_ineligible():
    result = assess(BETTERBACK, {"swedish": True, "pregnancy": True}, age=30)
    assert not result.eligible and result.unmet == ("pregnancy",)


def test_several_reasons_are_all_kept_for_consort():
    result = assess(BETTERBACK, {"swedish": False, "pregnancy": True}, age=70)
    assert result.unmet == ("age", "swedish", "pregnancy")


def test_unanswered_criterion_is_missing_not_eligible():
    result = assess(BETTERBACK, {"swedish": True}, age=30)
    assert not result.eligible and result.missing == ("pregnancy",)


def test_selfback_rmdq_threshold():
    assert assess([SELFBACK_RMDQ], {}, scores={"rmdq_total": 6}).eligible
    assert assess([SELFBACK_RMDQ], {}, scores={"rmdq_total": 5}).unmet == ("rmdq",)
    assert assess([SELFBACK_RMDQ], {}, scores={}).missing == ("rmdq",)
