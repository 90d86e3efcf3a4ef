"""Human-written pair sets: labels, categories and held-out splits, on tiny files in the shipped layout."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from verirank.datasets import HUMAN_SETS, load_human_pairs
from verirank.datasets.human import HUMAN_FILES, detokenize, vsr_objects
from verirank.errors import ConfigError, InputError
from verirank.types import Category


def write(root: Path, name: str, rows: list[dict]) -> None:
    path = root / HUMAN_FILES[name]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write(tmp_path, "paws", [
        {"split": "test", "id": "t1", "sentence1": "The Tabaci River is a tributary of the River Leurda .",
         "sentence2": "The Leurda River is a tributary of the River Tabaci .", "label": 0},
        {"split": "test", "id": "t2", "sentence1": "He left Southampton in August , returning in June .",
         "sentence2": "In August , he left Southampton and returned in June .", "label": 1},
        {"split": "dev", "id": "d1", "sentence1": "A was born in B .", "sentence2": "B was born in A and C .", "label": 0},
    ])
    write(tmp_path, "snli", [
        {"split": "test", "id": "0", "premise": "Two women are embracing .", "hypothesis": "Two women hug .",
         "gold_label": "entailment"},
        {"split": "test", "id": "1", "premise": "Two women are embracing .", "hypothesis": "The men fight .",
         "gold_label": "contradiction"},
        {"split": "test", "id": "2", "premise": "Two women are embracing .", "hypothesis": "They are sisters .",
         "gold_label": "neutral"},
    ])
    write(tmp_path, "cad_nli", [
        {"part": "original", "split": "test", "id": "o", "premise": "A man rides a red bike.",
         "hypothesis": "A man rides a bike.", "gold_label": "entailment"},
        {"part": "revised_hypothesis", "split": "test", "id": "h", "premise": "A man rides a red bike.",
         "hypothesis": "A man rides a blue bike.", "gold_label": "contradiction"},
        {"part": "revised_premise", "split": "test", "id": "p", "premise": "A man walks past a bike.",
         "hypothesis": "A man rides a bike.", "gold_label": "contradiction"},
        {"part": "original", "split": "train", "id": "x", "premise": "A dog runs.", "hypothesis": "A dog moves.",
         "gold_label": "entailment"},
    ])
    write(tmp_path, "breaking_nli", [
        {"id": 1, "premise": "Two men sit near the yellow line.", "hypothesis": "Two men sit near the red line.",
         "gold_label": "contradiction", "category": "colors"},
        {"id": 2, "premise": "Two men sit near the yellow line.", "hypothesis": "Three men sit near the yellow line.",
         "gold_label": "contradiction", "category": "cardinals"},
        {"id": 3, "premise": "Two men sit near the yellow line.", "hypothesis": "Two men stand near the yellow line.",
         "gold_label": "contradiction", "category": "antonyms"},
        {"id": 4, "premise": "A tall man waves.", "hypothesis": "A shorter man waves.",
         "gold_label": "contradiction", "category": "antonyms"},
        {"id": 5, "premise": "Two men sit near the yellow line.", "hypothesis": "Two guys sit near the yellow line.",
         "gold_label": "entailment", "category": "synonyms"},
        {"id": 6, "premise": "A man drinks tea.", "hypothesis": "A man drinks coffee.",
         "gold_label": "contradiction", "category": "drinks"},
    ])
    write(tmp_path, "vsr", [
        {"image": "1.jpg", "caption": "The laptop is inside the train.", "label": 1, "relation": "inside"},
        {"image": "1.jpg", "caption": "The train contains the laptop.", "label": 1, "relation": "contains"},
        {"image": "1.jpg", "caption": "The laptop is on top of the train.", "label": 0, "relation": "on top of"},
        {"image": "1.jpg", "caption": "The cat is under the train.", "label": 0, "relation": "under"},
        {"image": "2.jpg", "caption": "The laptop is on top of the train.", "label": 1, "relation": "on top of"},
    ])
    return tmp_path


def test_paws_swaps_are_role_reversal_and_text_is_detokenized(root):
    pairs = load_human_pairs("paws", "test", root=root)
    swap, paraphrase = pairs
    assert swap.label == 0 and swap.category is Category.ROLE_REVERSAL
    assert swap.anchor == "The Tabaci River is a tributary of the River Leurda."
    assert paraphrase.label == 1 and paraphrase.anchor == "He left Southampton in August, returning in June."
    # a PAWS dev row never lands in test; it is train or dev by a stable hash
    assert {p.source for p in load_human_pairs("paws", root=root)} >= {"paws:test"}
    dev_row = [p for p in load_human_pairs("paws", root=root) if p.anchor.startswith("A was")][0]
    assert dev_row.category is Category.MATCH and dev_row.source in ("paws:train", "paws:dev")


def test_snli_entailment_is_positive_contradiction_negative_neutral_skipped(root):
    pairs = load_human_pairs("snli", "test", root=root)
    assert [(p.text, p.label) for p in pairs] == [("Two women hug.", 1), ("The men fight.", 0)]


def test_cad_anchors_are_the_side_humans_kept(root):
    pairs = load_human_pairs("cad_nli", "test", root=root)
    by_anchor: dict[str, list] = {}
    for p in pairs:
        by_anchor.setdefault(p.anchor, []).append((p.text, p.label))
    assert sorted(by_anchor["A man rides a red bike."]) == [("A man rides a bike.", 1), ("A man rides a blue bike.", 0)]
    assert sorted(by_anchor["A man rides a bike."]) == [("A man rides a red bike.", 1), ("A man walks past a bike.", 0)]
    assert all(p.source.startswith("cad_nli") for p in pairs)
    assert [p.anchor for p in load_human_pairs("cad_nli", "train", root=root)] == ["A dog runs.", "A dog moves."]


def test_breaking_nli_categories(root):
    pairs = {p.text: p for p in load_human_pairs("breaking_nli", root=root)}
    assert pairs["Two men sit near the red line."].category is Category.BINDING
    assert pairs["Three men sit near the yellow line."].category is Category.NUMERIC
    assert pairs["Two men stand near the yellow line."].category is Category.NEGATION
    assert pairs["A shorter man waves."].category is Category.COMPARATIVE
    assert pairs["Two guys sit near the yellow line."].label == 1
    assert pairs["A man drinks coffee."].category is Category.MATCH and pairs["A man drinks coffee."].label == 0


def test_vsr_pairs_captions_of_one_image_about_the_same_objects(root):
    pairs = load_human_pairs("vsr", root=root)
    got = {(p.anchor, p.text, p.label) for p in pairs}
    assert ("The laptop is inside the train.", "The train contains the laptop.", 1) in got
    assert ("The laptop is inside the train.", "The laptop is on top of the train.", 0) in got
    assert not any("cat" in p.text for p in pairs)  # other objects: not a near-miss of this anchor
    assert not any(p.anchor == "The laptop is on top of the train." for p in pairs)  # image 2: nothing to pair
    assert all(p.category is Category.SPATIAL for p in pairs)
    assert vsr_objects("The teddy bear is at the right side of the bench.", "at the right side of") == ("teddy bear", "bench")


def test_splits_partition_every_set_and_bad_arguments_say_what_to_do(root):
    for name in HUMAN_SETS:
        whole = load_human_pairs(name, root=root)
        parts = [p for split in ("train", "dev", "test") for p in load_human_pairs(name, split, root=root)]
        assert sorted(map(repr, whole)) == sorted(map(repr, parts)), name
    with pytest.raises(ConfigError, match="choose one of"):
        load_human_pairs("sick", root=root)
    with pytest.raises(ConfigError, match="split"):
        load_human_pairs("vsr", "validation", root=root)
    with pytest.raises(InputError, match="does not exist"):
        load_human_pairs("vsr", root=root / "nowhere")


def test_vsr_split_is_by_image(root):
    images = {}
    for split in ("train", "dev", "test"):
        for p in load_human_pairs("vsr", split, root=root):
            images.setdefault(p.source, set()).add(split)
    assert all(len(splits) == 1 for splits in images.values())


def test_detokenize():
    assert detokenize("He said `` no '' , did n't he ?") == 'He said "no", didn\'t he?'
