"""The verifier exported to ONNX Runtime gives the torch model's outputs (fast path vs reference)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from verirank.verifier.model import Verifier, VerifierConfig  # noqa: E402
from verirank.verifier.onnx_scorer import OnnxVerifierModel  # noqa: E402

SMALL = {"token_dim": 16, "d_model": 32, "n_heads": 2, "dropout": 0.0, "use_cosine": True}
CONFIGS = [
    VerifierConfig(head="transformer", head_dim=32, head_heads=2, **SMALL),
    VerifierConfig(head="encoder", encoder_dim=48, head_heads=4, head_layers=1, head_ffn=64, **SMALL),
]


def unit(*shape: int, seed: int) -> torch.Tensor:
    return torch.nn.functional.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


@pytest.mark.parametrize("cfg", CONFIGS, ids=["transformer-head", "encoder-head"])
def test_onnx_model_matches_torch(cfg):
    torch.manual_seed(0)
    model = Verifier(cfg).eval()
    onnx_model = OnnxVerifierModel.from_model(model, threads=1)
    # lengths other than the export's, not multiples of the patch size, one beyond the model's limits
    for b, lq, ld in [(1, 3, 5), (4, 9, 37), (2, 70, 120)]:
        q, d = unit(b, lq, cfg.token_dim, seed=lq), unit(b, ld, cfg.token_dim, seed=ld)
        q_mask, d_mask = torch.ones(b, lq, dtype=torch.bool), torch.ones(b, ld, dtype=torch.bool)
        d_mask[0, ld // 2 :] = False
        d[0, ld // 2 :] = 0
        mode, cosine = torch.arange(b) % 2, torch.linspace(0.1, 0.9, b)
        with torch.inference_mode():
            expected = model.score_projected(q, q_mask, d, d_mask, mode, cosine)
        got = onnx_model.score_projected(q, q_mask, d, d_mask, mode, cosine)
        for e, g in zip(expected, got):
            assert tuple(g.shape) == tuple(e.shape)
            np.testing.assert_allclose(g.numpy(), e.numpy(), atol=1e-4)
    states = torch.randn(3, 11, cfg.encoder_dim)
    mask = torch.ones(3, 11, dtype=torch.bool)
    mask[1, 6:] = False
    with torch.inference_mode():
        expected_head = model.project(states, mask)
    np.testing.assert_allclose(onnx_model.project(states, mask).numpy(), expected_head.numpy(), atol=1e-4)


def test_quantized_model_runs_and_stays_close():
    torch.manual_seed(0)
    model = Verifier(CONFIGS[0]).eval()
    int8 = OnnxVerifierModel.from_model(model, quantize=True, threads=1)
    q, d = unit(3, 8, 16, seed=1), unit(3, 20, 16, seed=2)
    masks = torch.ones(3, 8, dtype=torch.bool), torch.ones(3, 20, dtype=torch.bool)
    mode, cosine = torch.zeros(3, dtype=torch.long), torch.full((3,), 0.5)
    with torch.inference_mode():
        expected = model.score_projected(q, masks[0], d, masks[1], mode, cosine)[0]
    got = int8.score_projected(q, masks[0], d, masks[1], mode, cosine)[0]
    assert np.isfinite(got.numpy()).all()
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=0.5)  # int8 weights: close, not equal


def test_shipped_checkpoint_on_onnx_gives_the_same_verdicts():
    from verirank.pipeline import _load_verifier
    from verirank.verifier.runtime import Candidate, NearMissVerifier, QueryStates

    reference, onnx_verifier = NearMissVerifier.load(), _load_verifier("shipped-onnx")
    assert isinstance(onnx_verifier.model, OnnxVerifierModel) and onnx_verifier.head_id == reference.head_id
    rng = np.random.default_rng(0)
    dim = reference.cfg.encoder_dim
    q_raw = rng.normal(size=(9, dim)).astype(np.float32)
    d_raw = [rng.normal(size=(n, dim)).astype(np.float32) for n in (5, 40, 96)]
    q = QueryStates("q", reference.project_query(q_raw), np.zeros((9, 2), np.int32))
    np.testing.assert_allclose(onnx_verifier.project_query(q_raw), q.states, atol=1e-4)
    cands = [Candidate("c", s, np.zeros((len(s), 2), np.int32), 0.3 + 0.1 * i)
             for i, s in enumerate(reference.project(d_raw))]
    expected = reference.verify(q, cands, "relevance", "full")
    got = onnx_verifier.verify(q, cands, "relevance", "full")
    np.testing.assert_allclose([v.p_match for v in got], [v.p_match for v in expected], atol=1e-4)
    assert [v.decision for v in got] == [v.decision for v in expected]
