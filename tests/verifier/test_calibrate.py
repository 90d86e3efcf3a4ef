from __future__ import annotations

import json

import numpy as np
import pytest

from verirank.errors import InputError
from verirank.verifier.calibrate import read_labelled_pairs, threshold_for_far


def test_threshold_for_far_hand_computed():
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    y = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    # 9 negatives: FAR <= 0.2 allows floor(1.8) = 1 negative at or above the threshold -> just above 0.8
    t = threshold_for_far(p, y, 0.2)
    assert 0.8 < t <= 0.9
    assert (p[y == 0] >= t).mean() <= 0.2
    assert threshold_for_far(p, y, 0.01) > 0.9  # no negative may pass


def test_read_labelled_pairs_accepts_both_spellings_and_refuses_bad_rows(tmp_path):
    good = tmp_path / "pairs.jsonl"
    good.write_text("\n".join(json.dumps(r) for r in [
        {"query": "a", "candidate": "b", "label": 1}, {"anchor": "a", "text": "c", "label": 0}]))
    assert read_labelled_pairs(good) == [("a", "b", 1), ("a", "c", 0)]
    one_label = tmp_path / "one.jsonl"
    one_label.write_text(json.dumps({"query": "a", "candidate": "b", "label": 1}))
    with pytest.raises(InputError, match="both"):
        read_labelled_pairs(one_label)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "a", "candidate": "b"}\n')
    with pytest.raises(InputError, match="bad.jsonl:1"):
        read_labelled_pairs(bad)
    with pytest.raises(InputError, match="does not exist"):
        read_labelled_pairs(tmp_path / "missing.jsonl")
