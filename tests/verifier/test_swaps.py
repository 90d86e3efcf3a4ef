"""Training swaps: word-order near-misses of human sentences, and the groups they join."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("spacy")
torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402

from verirank.nearmiss._nlp import nlp  # noqa: E402
from verirank.verifier import data as vdata  # noqa: E402
from verirank.verifier.model import VerifierConfig  # noqa: E402
from verirank.verifier.swaps import (  # noqa: E402
    direction_swap,
    modifier_swap,
    noun_phrase_swap,
    route_reorder,
    spatial_flip,
    swaps,
)
from verirank.verifier.train import make_batch  # noqa: E402
from verirank.verifier.trainset import swap_examples  # noqa: E402


@pytest.mark.parametrize("text, swapped", [
    ("The dog bit the man.", "The man bit the dog."),
    ("The laptop is inside the train.", "The train is inside the laptop."),
    ("The cat is on top of the car.", "The car is on top of the cat."),
    ("Germany beat Brazil in the final.", "Brazil beat Germany in the final."),
])
def test_noun_phrase_swap_trades_the_subject_and_its_verbs_object(text, swapped):
    assert noun_phrase_swap(nlp()(text)) == swapped


@pytest.mark.parametrize("text", [
    "A woman and a man are walking.",  # conjuncts: the same scene either way
    "The cat is next to the dog.",  # symmetric relation
    "The cat sits with the dog.",
    "Two men met the woman.",  # singular and plural: the swap would not agree
    "Paris is the capital.",  # "X is a Y": no object to trade
])
def test_noun_phrase_swap_declines_where_the_swap_keeps_the_meaning_or_breaks_the_sentence(text):
    assert noun_phrase_swap(nlp()(text)) is None


def test_modifier_swap_moves_adjectives_between_nouns():
    assert modifier_swap(nlp()("A man in a red shirt pets a black dog.")) == "A man in a black shirt pets a red dog."
    assert modifier_swap(nlp()("A red car.")) is None


@pytest.mark.parametrize("text, flipped", [
    ("The museum is north of the river.", "The museum is south of the river."),
    ("The cat is on the mat.", "The cat is under the mat."),
    ("The cat is on top of the car.", "The cat is underneath the car."),
    ("The laptop is in front of the train.", "The laptop is behind the train."),
    ("A man walks into the store.", "A man walks out of the store."),
])
def test_spatial_flip_names_the_opposite_place(text, flipped):
    assert spatial_flip(nlp()(text)) == flipped


def test_spatial_flip_leaves_particles_and_placeless_sentences_alone():
    assert spatial_flip(nlp()("He turned on the light.")) is None
    assert spatial_flip(nlp()("A dog runs.")) is None


def test_swaps_apply_only_the_asked_categories():
    doc = nlp()("The dog is behind the man.")
    assert {c for _, _, c in swaps([doc])} == {"role_reversal", "spatial"}
    assert {c for _, _, c in swaps([doc], ["spatial"])} == {"spatial"}


@pytest.mark.parametrize("text, swapped", [
    ("Flights from Boston to Denver leave every morning.", "Flights from Denver to Boston leave every morning."),
    ("The night train from Vienna to Prague takes eleven hours.",
     "The night train from Prague to Vienna takes eleven hours."),
    ("She drove from the coast to the mountains.", "She drove from the mountains to the coast."),  # whole phrases
    ("Trains from New York City to the old harbour of Boston run hourly.",
     "Trains from the old harbour of Boston to New York City run hourly."),
    ("To Denver from Boston is a long drive.", "To Boston from Denver is a long drive."),  # "from" under "Denver"
    ("The night train to Vienna takes four hours.", "The night train from Vienna takes four hours."),
    ("He returned from Japan last week.", "He returned to Japan last week."),
    ("To Paris we drove in the spring.", "From Paris we drove in the spring."),
])
def test_direction_swap_trades_the_ends_of_a_trip_or_flips_its_one_end(text, swapped):
    assert direction_swap(nlp()(text)) == swapped


@pytest.mark.parametrize("text", [
    "I want to go home.",  # infinitive "to"
    "She gave the book to her brother.",  # recipient, not destination
    "She sent a letter to her brother.",
    "She talked to the manager.",  # no motion
    "Prices change from time to time.",  # both ends the same
    "She was covered from head to toe.",  # an extent, the same either way round
    "He moved away from the city.",  # "away to the city" is not English
    "He went to great lengths.",  # an idiom, not a place
    "A dog runs in the park.",  # no from/to at all
])
def test_direction_swap_declines_infinitives_recipients_idioms_and_placeless_sentences(text):
    assert direction_swap(nlp()(text)) is None


@pytest.mark.parametrize("text, reordered", [
    ("Flights from Boston to Denver leave every morning.", "Flights to Denver from Boston leave every morning."),
    ("He drove to Paris from Lyon on Monday.", "He drove from Lyon to Paris on Monday."),
    ("The night train to Vienna takes four hours.", None),  # one end only: nothing to reorder
    ("Berry worked there from 1951 to 1958.", None),  # a range of years is said in one order
])
def test_route_reorder_keeps_the_trip_and_moves_its_phrases(text, reordered):
    assert route_reorder(nlp()(text)) == reordered


def test_swaps_label_direction_swaps_as_role_reversals():
    docs = [nlp()(t) for t in ("Flights from Boston to Denver leave every morning.", "A dog runs.")]
    assert list(swaps(docs, ["direction"])) == [
        ("Flights from Boston to Denver leave every morning.", "Flights from Denver to Boston leave every morning.",
         "role_reversal")]


def test_swap_groups_hold_the_anchor_a_human_paraphrase_and_the_swaps_but_no_held_out_text():
    human = vdata.Example(vdata.MODE_INDEX["identity"], "The dog bit the man.", source="snli")
    human.add("A man was bitten by a dog.", 1, vdata.CATEGORY_INDEX["match"])
    human.add("A dog is asleep.", 0, vdata.UNKNOWN)
    other = vdata.Example(vdata.MODE_INDEX["identity"], "The laptop is inside the train.", source="vsr")
    (group,) = swap_examples([human, other], held={"The train is inside the laptop.", "The laptop is outside the train."})
    assert group.query == "The dog bit the man." and group.source == "swaps"
    assert group.candidates == ["The dog bit the man.", "A man was bitten by a dog.", "The man bit the dog."]
    assert group.labels == [1, 1, 0]
    assert group.categories[-1] == vdata.CATEGORY_INDEX["role_reversal"]


class _Cache:
    def get(self, text: str) -> np.ndarray:
        return np.ones((3, 8), dtype=np.float32)

    def pooled(self, text: str) -> np.ndarray:
        return np.ones(4, dtype=np.float32) / 2


def test_batches_keep_a_near_miss_even_when_a_group_has_more_positives_than_slots():
    ex = vdata.Example(vdata.MODE_INDEX["identity"], "q")
    for i in range(5):
        ex.add(f"p{i}", 1, vdata.CATEGORY_INDEX["match"])
    ex.add("n", 0, vdata.CATEGORY_INDEX["role_reversal"])
    b = make_batch([ex], _Cache(), VerifierConfig(encoder_dim=8), random.Random(0), per_group=4, in_batch=0)
    assert b.labels.tolist().count(0) == 1 and len(b.labels) == 4
