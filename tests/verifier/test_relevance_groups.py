"""Relevance-mode training groups with constraint-violating negatives (exclusions, questions)."""

from __future__ import annotations

import random

import numpy as np
import pytest

pytest.importorskip("spacy")
pytest.importorskip("torch")

from verirank.nearmiss._nlp import nlp  # noqa: E402
from verirank.types import Category, NearMissPair  # noqa: E402
from verirank.verifier import data as vdata  # noqa: E402
from verirank.verifier.relevance_groups import (  # noqa: E402
    direction_examples, exclusion_examples, opposite_question_examples, question, question_examples,
)
from verirank.errors import ConfigError  # noqa: E402
from verirank.verifier.train import TrainConfig, calibrate, relevance_kind  # noqa: E402

RELEVANCE = vdata.MODE_INDEX["relevance"]
EXCLUSION = vdata.CATEGORY_INDEX["exclusion"]


@pytest.mark.parametrize("statement, asked", [
    ("A man is playing a guitar.", "Is a man playing a guitar?"),
    ("Two dogs chase a ball.", "Do two dogs chase a ball?"),
    ("The man sold his car.", "Did the man sell his car?"),
    ("The hotel breakfast is included in the room price.", "Is the hotel breakfast included in the room price?"),
    ("John can swim.", "Can John swim?"),
])
def test_question_inverts_the_auxiliary_or_adds_do(statement, asked):
    assert question(nlp()(statement)) == asked


def test_question_declines_statements_that_do_not_start_with_their_subject():
    assert question(nlp()("In the park, a man runs.")) is None


def _ict_group(query: str, passage: str, neighbours: list[str]) -> vdata.Example:
    ex = vdata.Example(RELEVANCE, query, source="npl")
    ex.add(passage, 1, vdata.CATEGORY_INDEX["match"])
    for text in neighbours:
        ex.add(text, 0, vdata.UNKNOWN)
    return ex


def test_exclusion_groups_turn_the_passage_negative_only_when_it_mentions_the_excluded_term():
    ict = _ict_group("wave propagation in plasma",
                     "Measurements of wave propagation in a magnetised plasma using microwave probes.",
                     ["Microwave probes for the diagnosis of plasma density.", "Propagation of sound in tubes."])
    for seed in range(5):
        groups = exclusion_examples([ict], random.Random(seed), nlp().Defaults.stop_words)
        assert len(groups) == 2
        for g in groups:
            term = g.query.split()[-1]
            assert g.query.startswith("wave propagation in plasma, ")
            passage = g.candidates[0]
            mentioned = term in passage.lower()
            assert g.labels[0] == (0 if mentioned else 1)
            assert g.categories[0] == (EXCLUSION if mentioned else vdata.CATEGORY_INDEX["match"])
            for text, label, category in zip(g.candidates[1:], g.labels[1:], g.categories[1:]):
                assert label == 0 and (category == EXCLUSION) == (term in text.lower())
            assert relevance_kind(g) == "exclusion"
    assert relevance_kind(ict) == "ict"


def test_exclusion_groups_skip_near_miss_query_groups_and_groups_without_a_positive():
    flipped = _ict_group("a", "b c d e f g", [])
    flipped.source = "npl:nm-query"
    no_positive = vdata.Example(RELEVANCE, "query words", source="npl")
    no_positive.add("passage about something", 0, vdata.UNKNOWN)
    assert exclusion_examples([flipped, no_positive], random.Random(0), set()) == []


def test_question_groups_keep_answers_and_reject_passages_about_something_else():
    statement = "The little girl is happy at the mall."
    pair = lambda text, label, kind, category=Category.MATCH: NearMissPair(  # noqa: E731
        anchor=statement, text=text, label=label, category=category, source=f"breaking_nli:{kind}")
    pairs = {"breaking_nli": [
        pair("The little girl is sad at the mall.", 0, "antonyms", Category.NEGATION),  # the answer: no
        pair("The big girl is happy at the mall.", 0, "antonyms", Category.NEGATION),  # another girl
        pair("The little girl is happy at the kitchen.", 0, "rooms"),  # another place
        pair("The little girl is happy at the shopping centre.", 1, "synonyms"),
    ], "snli": [NearMissPair(anchor="A small child smiles while shopping.", text=statement, label=1,
                             category=Category.MATCH, source="snli")]}
    [group] = question_examples(pairs, held={"The little girl is happy at the shopping centre."})
    assert group.query == "Is the little girl happy at the mall?" and group.source == "question"
    labelled = dict(zip(group.candidates, group.labels))
    assert labelled == {statement: 1, "A small child smiles while shopping.": 1,
                        "The little girl is sad at the mall.": 1, "The big girl is happy at the mall.": 0,
                        "The little girl is happy at the kitchen.": 0,
                        "The mall is happy at the little girl.": 0}  # roles swapped (verifier.swaps)
    categories = dict(zip(group.candidates, group.categories))
    assert categories["The mall is happy at the little girl."] == vdata.CATEGORY_INDEX["role_reversal"]
    assert categories["The big girl is happy at the mall."] == vdata.CATEGORY_INDEX["binding"]


def test_relevance_abstain_band_is_fitted_only_when_asked():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 4000)
    logits = rng.normal(labels * 1.0 - 0.5, 1.5)
    rows = [{"mode": RELEVANCE, "label": int(y), "logit": float(x)} for x, y in zip(logits, labels)]
    unbanded = calibrate(rows)
    banded = calibrate(rows, relevance_max_abstain=0.2)
    assert unbanded.relevance.accept == 0.5
    assert banded.metrics["relevance_dev_abstain"] <= 0.2 < unbanded.metrics["relevance_dev_abstain"]
    assert banded.relevance.reject < 0.5 < banded.relevance.accept


def test_relevance_weights_name_only_groups_that_are_built():
    assert TrainConfig(constraint_groups=True, relevance_weights={"ict": 0.5, "question": 0.5})
    with pytest.raises(ConfigError, match="kinds of relevance group are ict, exclusion, question"):
        TrainConfig.from_json({"constraint_groups": True, "relevance_weights": {"questions": 1.0}})
    with pytest.raises(ConfigError, match="constraint_groups"):
        TrainConfig(relevance_weights={"ict": 0.5, "exclusion": 0.5})


def test_a_negated_statement_answers_its_question_and_a_statement_query_keeps_only_what_states_it():
    statement = "A man walks from the store to his car."
    premise = "A tall man in a coat walks from the store to his car at night."
    pairs = {"snli": [NearMissPair(anchor=premise, text=statement, label=1, category=Category.MATCH, source="snli")]}
    question_group, statement_group = question_examples(pairs, held=set(), negations=True, statements=True)
    assert question_group.source == "question" and statement_group.source == "statement"
    asked = dict(zip(question_group.candidates, question_group.labels))
    assert asked["A man does not walk from the store to his car."] == 1  # "no" answers it too
    assert asked["A man walks from his car to the store."] == 0  # the trip reversed (verifier.swaps)
    assert statement_group.query == statement
    stated = dict(zip(statement_group.candidates, statement_group.labels))
    assert stated[premise] == 1 and stated["A man walks from his car to the store."] == 0
    assert statement not in stated and "A man does not walk from the store to his car." not in stated
    # the shipped v5 relevance stage: no negation answers, no direction swaps, no statement groups
    [v5] = question_examples(pairs, held=set(), categories=("role_reversal", "binding"), negations=False)
    assert "A man does not walk from the store to his car." not in v5.candidates


def test_statement_groups_need_constraint_groups_and_their_weight_needs_them():
    with pytest.raises(ConfigError, match="statement_groups needs constraint_groups"):
        TrainConfig(statement_groups=True)
    with pytest.raises(ConfigError, match="statement_groups is false"):
        TrainConfig(constraint_groups=True, relevance_weights={"ict": 0.5, "statement": 0.5})


def test_identity_groups_hold_each_question_against_its_own_negation():
    statement = "A man walks from the store to his car."
    pairs = {"snli": [NearMissPair(anchor="A tall man walks from the store to his car.", text=statement, label=1,
                                   category=Category.MATCH, source="snli")]}
    groups = question_examples(pairs, held=set(), identity=True)
    negated = [g for g in groups if g.source == "question_negation"]
    assert negated and all(g.mode == vdata.MODE_INDEX["identity"] for g in negated)
    by_query = {g.query: dict(zip(g.candidates, zip(g.labels, g.categories))) for g in negated}
    assert by_query["Does a man walk from the store to his car?"] == {
        "Does a man walk from the store to his car?": (1, vdata.CATEGORY_INDEX["match"]),
        "Does a man not walk from the store to his car?": (0, vdata.CATEGORY_INDEX["negation"])}
    assert not [g for g in question_examples(pairs, held=set()) if g.source == "question_negation"]
    held = {"Does a man not walk from the store to his car?"}  # a held-out text never trains
    assert "Does a man walk from the store to his car?" not in {
        g.query for g in question_examples(pairs, held=held, identity=True) if g.source == "question_negation"}


def test_question_groups_get_a_twin_asked_the_other_way_with_the_same_labels():
    statement = "A man walks from the store to his car."
    pairs = {"snli": [NearMissPair(anchor="A tall man walks from the store to his car.", text=statement, label=1,
                                   category=Category.MATCH, source="snli")]}
    groups = question_examples(pairs, held=set(), statements=True)
    twins = opposite_question_examples(groups, held=set())
    [asked] = [g for g in groups if g.source == "question"]
    [twin] = twins  # the statement group is not a question: no twin
    assert twin.query == "Does a man not walk from the store to his car?"
    assert (twin.mode, twin.source) == (asked.mode, "question")
    assert list(zip(twin.candidates, twin.labels, twin.categories)) == list(
        zip(asked.candidates, asked.labels, asked.categories))
    assert opposite_question_examples(groups, held={twin.query}) == []  # a held-out text never trains


def test_direction_groups_set_a_route_against_its_swap_in_both_modes():
    route, swapped = "The night train to Vienna takes eleven hours.", "The night train from Vienna takes eleven hours."
    groups = direction_examples([route, "He wants to eat.", route], held=set())
    assert {(g.source, g.query) for g in groups} == {
        ("direction", route), ("direction", "Does the night train to Vienna take eleven hours?"), ("directions", route)}
    for g in groups:
        assert g.mode == vdata.MODE_INDEX["identity" if g.source == "directions" else "relevance"]
        assert dict(zip(g.candidates, g.labels)) == {route: 1, swapped: 0}
    assert direction_examples([route], held={swapped}) == []
    flights = "Flights from Boston to Denver leave every morning."
    [group, *_] = direction_examples([flights], held=set())
    assert dict(zip(group.candidates, group.labels)) == {
        flights: 1, "Flights to Denver from Boston leave every morning.": 1,  # same trip, other order
        "Flights from Denver to Boston leave every morning.": 0}


def test_question_identity_and_direction_groups_need_constraint_groups():
    for switch in ("question_identity", "direction_groups", "question_opposites"):
        with pytest.raises(ConfigError, match="need constraint_groups"):
            TrainConfig(**{switch: True})
    with pytest.raises(ConfigError, match="direction_groups is false"):
        TrainConfig(constraint_groups=True, relevance_weights={"ict": 0.5, "direction": 0.5})
