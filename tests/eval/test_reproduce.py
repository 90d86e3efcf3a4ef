"""The reproduction harness: its pieces against slow references, and (slow) the whole chain at smoke scale."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from verirank.errors import ConfigError
from verirank.eval.reproduce.cache import cached_json
from verirank.eval.reproduce.config import SCALES, load_config
from verirank.eval.reproduce.pairs_eval import balanced_threshold, both_correct
from verirank.eval.reproduce.stage2 import maxsim, meansim, rerank_head, rrf
from verirank.types import Category, NearMissPair
from verirank.verifier import baselines


def test_scales_and_overrides() -> None:
    assert set(SCALES) == {"full", "quick", "smoke"}
    assert load_config("quick", seed=3).seed == 3
    with pytest.raises(ConfigError):
        load_config("huge")
    with pytest.raises(ConfigError):
        load_config("full", not_a_field=1)


def test_cached_json_computes_once(tmp_path) -> None:
    calls = []
    compute = lambda: calls.append(1) or {"x": 1}  # noqa: E731
    assert cached_json(tmp_path / "a" / "v.json", compute) == {"x": 1}
    assert cached_json(tmp_path / "a" / "v.json", compute) == {"x": 1}
    assert calls == [1]
    assert not list((tmp_path / "a").glob("*.tmp"))


def test_rrf_matches_definition() -> None:
    fused = rrf([["a", "b", "c"], ["c", "a"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert list(fused) == ["a", "c", "b"]


def test_rerank_head_reorders_only_the_head() -> None:
    stage1 = [("d1", 0.9), ("d2", 0.8), ("d3", 0.7), ("d4", 0.6)]
    run = rerank_head(stage1, [0.1, 0.5, 0.3], depth=3)
    assert sorted(run, key=lambda d: -run[d]) == ["d2", "d3", "d1", "d4"]


def test_token_scores_match_the_baselines() -> None:
    rng = np.random.default_rng(0)
    q, d = rng.normal(size=(5, 8)), rng.normal(size=(7, 8))
    assert maxsim(q, d) == pytest.approx(baselines.maxsim(q, d), abs=1e-5)
    assert meansim(q, d) == pytest.approx(baselines.mean_similarity(q, d), abs=1e-5)
    loops = np.mean([max(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) for b in d) for a in q])
    assert maxsim(q, d) == pytest.approx(loops, abs=1e-5)


def test_mnrl_loss_matches_a_loop() -> None:
    torch = pytest.importorskip("torch")
    from verirank.eval.reproduce.models import mnrl_loss

    gen = torch.Generator().manual_seed(0)
    anchors, candidates = torch.randn(3, 4, generator=gen), torch.randn(5, 4, generator=gen)
    expected = 0.0
    for i in range(3):
        sims = [10 * float(torch.nn.functional.cosine_similarity(anchors[i], c, dim=0)) for c in candidates]
        expected += -(sims[i] - math.log(sum(math.exp(s) for s in sims)))
    assert float(mnrl_loss(anchors, candidates, 10.0)) == pytest.approx(expected / 3, rel=1e-5)


def _pair(anchor: str, text: str, label: int) -> NearMissPair:
    return NearMissPair(anchor=anchor, text=text, label=label, category=Category.NEGATION if label == 0 else Category.MATCH)


def test_both_correct_needs_both_verdicts() -> None:
    pairs = [_pair("a", "p", 1), _pair("a", "n", 0), _pair("b", "p2", 1), _pair("b", "n2", 0)]
    accepted = np.array([True, False, True, True])
    rejected = ~accepted
    result = both_correct(pairs, accepted, rejected, seed=0, n_resamples=50)
    assert result is not None and result["value"] == pytest.approx(0.5) and result["n"] == 2


def test_balanced_threshold_separates() -> None:
    scores, labels = np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1])
    t = balanced_threshold(scores, labels)
    assert 0.2 < t <= 0.8


@pytest.mark.slow
def test_smoke_reproduction_writes_the_report(tmp_path, data_root) -> None:
    from verirank.eval.reproduce.run import run

    cfg = load_config("smoke")
    folder = run(cfg, tmp_path / "runs", report_dir=tmp_path / "reports")
    text = (tmp_path / "reports" / "reproduction_smoke.md").read_text()
    assert "## Headline" in text and "verirank full" in text and "The paradox" in text
    summary = json.loads((tmp_path / "reports" / "reproduction_smoke.json").read_text())
    assert summary["systems"]["verirank_full"]["ndcg@10_macro"] is not None
    assert (tmp_path / "reports" / "reproduction_smoke_pareto.png").stat().st_size > 0
    assert json.loads((folder / "config.json").read_text())["scale"] == "smoke"
