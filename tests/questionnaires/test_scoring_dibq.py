"""DIBQ as kept by BetterBack (protocol: 10 domains, 57 items, 1 totally agree - 5 totally
disagree). Items come from questionnaires/data/dibq_betterback.csv (our paraphrases and
our spread over the domains). Domain score = mean of the domain's answered items, as
Huijg et al. (Implement Sci 2014) report domain scores as item means; no missing-item
rule was found, so a domain is missing only when none of its items is answered."""

import pytest

from questionnaires.instruments import registry
from questionnaires.instruments.base import PHYSIOTHERAPIST, SCALE
from questionnaires.instruments.definitions.dibq import items_by_domain

DIBQ = registry.get("dibq", 1)
DOMAINS = [
    "knowledge",
    "skills",
    "beliefs_capabilities",
    "beliefs_consequences",
    "intentions",
    "innovation",
    "organisation",
    "patient",
    "social_influence",
    "behavioural_regulation",
]


def test_definition_loaded_from_file():
    assert DIBQ.respondent == PHYSIOTHERAPIST
    assert list(DIBQ.item_ids) == [f"q{n}" for n in range(1, 58)]
    assert len({i.text for i in DIBQ.items}) == 57
    for item in DIBQ.items:
        assert item.kind == SCALE and (item.min, item.max) == (1, 5)
        assert item.anchors == ("Totally agree", "Totally disagree")
        assert not item.required and item.section
    assert [s.name for s in DIBQ.scores] == DOMAINS


def test_every_item_in_exactly_one_domain_and_no_empty_domain():
    groups = items_by_domain()
    assert list(groups) == DOMAINS
    assert all(groups[d] for d in DOMAINS)
    assert sorted(i for ids in groups.values() for i in ids) == sorted(DIBQ.item_ids)


def test_all_answered_the_same():
    scores = DIBQ.score(dict.fromkeys(DIBQ.item_ids, 2))
    assert scores == dict.fromkeys(DOMAINS, 2.0)


def test_domain_mean_worked_example():
    # Knowledge items in the file: q1-q6. (1 + 2 + 3 + 4 + 5 + 5) / 6 = 20 / 6
    assert items_by_domain()["knowledge"] == ("q1", "q2", "q3", "q4", "q5", "q6")
    answers = dict.fromkeys(DIBQ.item_ids, 1)
    answers.update(q1=1, q2=2, q3=3, q4=4, q5=5, q6=5)
    scores = DIBQ.score(answers)
    assert scores["knowledge"] == pytest.approx(20 / 6)
    assert scores["skills"] == 1.0


def test_mean_of_answered_items_and_none_without_any():
    # Only two knowledge items answered: (1 + 4) / 2 = 2.5; every other domain empty.
    scores = DIBQ.score({"q1": 1, "q2": 4, "q3": None})
    assert scores["knowledge"] == 2.5
    assert all(scores[d] is None for d in DOMAINS if d != "knowledge")
    assert DIBQ.score({}) == dict.fromkeys(DOMAINS)
