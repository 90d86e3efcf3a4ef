"""The exclusion-query builder on a hand-made corpus where the rule's outcome is known."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("spacy")

from verirank.errors import ConfigError, InputError  # noqa: E402
from verirank.eval import constraint_set as cs_module  # noqa: E402
from verirank.eval.constraint_set import (  # noqa: E402
    CUES,
    ConstraintSet,
    ExclusionRule,
    build_exclusion_queries,
    candidate_terms,
    describe_rule,
    load_constraint_set,
    write_constraint_set,
)
from verirank.mentions import mentions  # noqa: E402
from verirank.types import Document  # noqa: E402

RELEVANT = {
    "d1": "Panel flutter of thin plates at supersonic speed.",
    "d2": "Flutter tests of a stiffened panel in a wind tunnel.",
    "d3": "Wing flutter predicted with water ballast in the wing tips.",
    "d4": "Flutter of a wing immersed in water during ditching.",
    "d5": "Supersonic flutter boundaries computed by piston theory.",
}
# Tie query: "rotor" and "hinge" are each in two of the five relevant documents, nothing else is.
TIE = {
    "t1": "Blade vibration of a helicopter rotor.",
    "t2": "Rotor blade vibration in forward flight.",
    "t3": "Blade vibration near the hinge.",
    "t4": "Hinge loads and blade vibration.",
    "t5": "Blade vibration measured with strain gauges.",
}
FILLERS = {f"f{i}": f"Recipe {i}: boil pasta in salted water and serve it with grated cheese." for i in range(40)}
QUERIES = {
    "q1": "wing flutter at supersonic speed.",
    "q2": "piston theory",  # two relevant documents: too few
    "q3": "blade vibration",
}
QRELS = {
    "q1": {"d1": 2, "d2": 1, "d3": 2, "d4": 1, "d5": 1, "f0": 0},
    "q2": {"d5": 1, "d4": 1},
    "q3": {d: 1 for d in TIE},
}
CUE_PATTERN = re.compile(r", (but not mentioning|but not about|excluding|without mentioning) (?P<term>[a-z ]+)$")


def corpus() -> list[Document]:
    return [Document(id=k, text=v) for k, v in {**RELEVANT, **TIE, **FILLERS}.items()]


@pytest.fixture(scope="module")
def built() -> ConstraintSet:
    return build_exclusion_queries(corpus(), QUERIES, QRELS, seed=0, source="tiny")


def test_chosen_term_splits_relevant_set_most_evenly(built: ConstraintSet) -> None:
    # "water" splits R as evenly (d3, d4) but is in every filler recipe: far over 5 % of the corpus
    assert built.excluded["q1"] == "panel"
    assert built.violating["q1"] == ["d1", "d2"]


def test_violating_documents_get_grade_zero_and_the_rest_keep_theirs(built: ConstraintSet) -> None:
    assert built.qrels["q1"] == {"d1": 0, "d2": 0, "d3": 2, "d4": 1, "d5": 1, "f0": 0}
    assert built.counts().mean_violating == pytest.approx(2.0)


def test_query_has_a_recognisable_exclusion_cue(built: ConstraintSet) -> None:
    for qid, text in built.queries.items():
        match = CUE_PATTERN.search(text)
        assert match is not None and match.group("term") == built.excluded[qid]
        assert text.startswith(built.original_queries[qid].rstrip(". "))
        assert built.cues[qid] in CUES
    assert built.queries["q1"].startswith("wing flutter at supersonic speed, ")


def test_queries_with_too_few_relevant_documents_are_skipped(built: ConstraintSet) -> None:
    assert "q2" not in built.queries and "q2" not in built.qrels
    assert set(built.queries) == {"q1", "q3"}


def test_ties_are_broken_by_the_seed_and_runs_repeat() -> None:
    picks = {build_exclusion_queries(corpus(), QUERIES, QRELS, seed=s).excluded["q3"] for s in range(12)}
    assert picks == {"rotor", "hinge"}
    first = build_exclusion_queries(corpus(), QUERIES, QRELS, seed=3)
    again = build_exclusion_queries(corpus(), QUERIES, QRELS, seed=3)
    assert first == again


def test_max_queries_caps_the_set() -> None:
    capped = build_exclusion_queries(corpus(), QUERIES, QRELS, seed=0, max_queries=1)
    assert len(capped.queries) == 1 and set(capped.queries) <= {"q1", "q3"}


def test_terms_overlapping_the_query_are_refused() -> None:
    query = "effect of azathioprine on systemic lupus erythematosus"
    overlap = cs_module._QueryOverlap.of(query, _parse(query), prefix_chars=5)
    assert overlap.overlaps("sle")  # acronym of three query words
    assert overlap.overlaps("lupus nephritis")  # shares a word
    assert overlap.overlaps("effects")  # a noun form of a query word
    assert overlap.overlaps("systemics")  # shares the first five letters
    assert not overlap.overlaps("nephritis")


def _parse(text: str):  # noqa: ANN202 - spaCy Doc
    from verirank.nearmiss._nlp import nlp

    return nlp()(text)


def test_candidate_terms_are_lexicon_noun_lemmas_and_modified_nouns() -> None:
    from spacy.lang.en.stop_words import STOP_WORDS

    parsed = _parse("Semantic indexing of thesauri for the boundary-layer region.")
    terms = candidate_terms(parsed, ExclusionRule(), frozenset(STOP_WORDS))
    assert {"thesaurus", "boundary layer", "semantic indexing", "region"} <= terms
    assert "thesauri" not in terms and "the region" not in terms


@pytest.mark.parametrize(("word", "spacy_lemma", "expected"), [
    ("thesauri", "thesauri", "thesaurus"),  # the lexicon's noun lemma when spaCy's is not one
    ("statistics", "statistic", "statistic"),  # spaCy's when the lexicon lists it
    ("crystallin", "crystallin", "crystallin"),  # unknown to the lexicon: spaCy's
    ("semantic", "semantic", None),  # known only as an adjective: tagged NOUN by mistake
])
def test_noun_lemma_follows_the_lexicon(word: str, spacy_lemma: str, expected: str | None) -> None:
    token = SimpleNamespace(lower_=word, lemma_=spacy_lemma)  # the two attributes a spaCy token gives
    assert cs_module._noun_lemma(token) == expected


@pytest.mark.parametrize(("term", "text", "expected"), [
    ("panel", "Two PANELS fluttered.", True),
    ("panel", "wood panelling", False),
    ("layer", "a multilayer coating", False),
    ("boundary layer", "Boundary-layers thicken downstream.", True),
    ("boundary layer", "the boundary, layer by layer", False),
    ("vortex", "the vortices shed by the wing", True),
    ("body", "slender bodies", True),
    ("thesaurus", "two thesauri", True),
])
def test_mentions_matches_whole_words_and_noun_forms(term: str, text: str, expected: bool) -> None:
    assert mentions(term, text) is expected


def test_indexed_mentions_agree_with_the_regular_expression() -> None:
    texts = {**RELEVANT, **TIE, **{"x1": "Boundary-layer panels; the vortices.", "x2": "boundary , layer"}}
    index = cs_module._MentionIndex(texts)
    for term in ("panel", "water", "wing tip", "boundary layer", "vortex", "flutter", "layer"):
        assert index.docs(term) == {d for d, t in texts.items() if mentions(term, t)}, term


def test_write_load_round_trip(built: ConstraintSet, tmp_path: Path) -> None:
    corpus_file = tmp_path / "corpus.jsonl"
    corpus_file.write_text("".join(json.dumps({"_id": d.id, "text": d.text}) + "\n" for d in corpus()))
    out = write_constraint_set(built, tmp_path / "set", corpus_file=corpus_file)
    assert load_constraint_set(out) == built
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["queries"] == 2 and manifest["seed"] == 0 and manifest["source"] == "tiny"
    rows = [json.loads(line) for line in (out / "constraints.jsonl").read_text().splitlines()]
    assert rows[0]["qid"] == "q1" and rows[0]["excluded"] == "panel" and rows[0]["violating"] == ["d1", "d2"]
    from verirank.datasets import load_beir

    beir = load_beir(out)  # a plain BEIR folder
    assert beir.queries == built.queries and beir.qrels == built.qrels
    write_constraint_set(built, out)  # rewriting over an existing set replaces it
    assert load_constraint_set(out) == built


def test_load_refuses_edited_or_newer_sets(built: ConstraintSet, tmp_path: Path) -> None:
    out = write_constraint_set(built, tmp_path / "set")
    (out / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\n")
    with pytest.raises(InputError, match="checksum"):
        load_constraint_set(out)
    out = write_constraint_set(built, tmp_path / "set")
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps(manifest | {"format_version": 99}))
    with pytest.raises(InputError, match="newer"):
        load_constraint_set(out)


def test_bad_rule_settings_say_what_to_do() -> None:
    with pytest.raises(ConfigError, match="min_kept"):
        build_exclusion_queries(corpus(), QUERIES, QRELS, rule=ExclusionRule(min_relevant=2, min_kept=2))
    with pytest.raises(ConfigError, match="term"):
        ExclusionRule(cues=("excluding",)).validate()
