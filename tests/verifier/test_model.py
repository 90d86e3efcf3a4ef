from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from verirank.errors import CheckpointError  # noqa: E402
from verirank.verifier import checkpoint  # noqa: E402
from verirank.verifier.model import Block, Calibration, Verifier, VerifierConfig, similarity_map  # noqa: E402
from verirank.verifier.train import (  # noqa: E402
    expected_calibration_error,
    fit_mode_calibration,
    initial_weights,
    loss_fn,
    make_batch,
)

CFG = VerifierConfig(head_dim=32, head_heads=2, token_dim=16, d_model=32, n_heads=2, dropout=0.0)


def states(b, length, dim=384, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, length, dim, generator=g)


def test_shapes():
    model = Verifier(CFG).eval()
    q, d = states(3, 7), states(3, 13, seed=1)
    qm, dm = torch.ones(3, 7, dtype=torch.bool), torch.ones(3, 13, dtype=torch.bool)
    logits, cats, loss = model(q, qm, d, dm, torch.tensor([0, 1, 0]))
    assert logits.shape == (3,) and cats.shape == (3, 8) and loss is None
    projected = model.project(q, qm)
    assert projected.shape == (3, 7, 16)
    np.testing.assert_allclose(projected.norm(dim=-1).detach().numpy(), 1.0, atol=1e-5)


def test_padding_does_not_change_scores():
    model = Verifier(CFG).eval()
    q, d = states(1, 5), states(1, 9, seed=1)
    base, _, _ = model(q, torch.ones(1, 5, dtype=torch.bool), d, torch.ones(1, 9, dtype=torch.bool), torch.tensor([1]))
    q_pad = torch.cat([q, torch.randn(1, 6, 384) * 50], dim=1)  # garbage in padded slots
    d_pad = torch.cat([d, torch.randn(1, 11, 384) * 50], dim=1)
    qm = torch.tensor([[True] * 5 + [False] * 6])
    dm = torch.tensor([[True] * 9 + [False] * 11])
    padded, _, _ = model(q_pad, qm, d_pad, dm, torch.tensor([1]))
    assert torch.allclose(base, padded, atol=1e-5)


def test_similarity_map_matches_loops():
    q = torch.nn.functional.normalize(torch.randn(2, 4, 8), dim=-1)
    d = torch.nn.functional.normalize(torch.randn(2, 6, 8), dim=-1)
    qm = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=torch.bool)
    dm = torch.tensor([[1, 1, 1, 1, 1, 0], [1, 1, 0, 0, 0, 0]], dtype=torch.bool)
    maps = similarity_map(q * qm[..., None], qm, d * dm[..., None], dm)
    for b in range(2):
        for i in range(4):
            for j in range(6):
                valid = bool(qm[b, i] and dm[b, j])
                expected = float(q[b, i] @ d[b, j]) if valid else 0.0
                assert maps[b, 0, i, j].item() == pytest.approx(expected, abs=1e-6)
                assert maps[b, 3, i, j].item() == float(valid)
        row_max = max(float(q[b, 0] @ d[b, j]) for j in range(6) if dm[b, j])
        assert maps[b, 1, 0, 0].item() == pytest.approx(row_max, abs=1e-6)


def test_patch_count_follows_real_lengths():
    model = Verifier(CFG).eval()
    seen = []
    model.blocks[0].register_forward_hook(lambda mod, inp, out: seen.append(out.shape[1]))
    for lq, ld in [(4, 4), (8, 20)]:
        model(states(1, lq), torch.ones(1, lq, dtype=torch.bool), states(1, ld), torch.ones(1, ld, dtype=torch.bool),
              torch.tensor([0]))
    assert seen == [1 + 1 * 1, 1 + 2 * 5]  # CLS + ceil(Lq/4) * ceil(Ld/4) patches


def test_deterministic_for_seed():
    torch.manual_seed(0)
    a = Verifier(CFG)
    torch.manual_seed(0)
    b = Verifier(CFG)
    for (_, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y)


def test_checkpoint_round_trip_and_corruption(tmp_path):
    model = Verifier(CFG).eval()
    cal = Calibration()
    cal.identity.temperature = 2.5
    path = checkpoint.save(model, cal, tmp_path / "ck", {"metrics": {"x": 1}})
    loaded, cal2, meta = checkpoint.load(path)
    assert cal2.identity.temperature == 2.5 and meta["token_head_id"] == checkpoint.token_head_id(model)
    q, d = states(2, 5), states(2, 6)
    m5, m6 = torch.ones(2, 5, dtype=torch.bool), torch.ones(2, 6, dtype=torch.bool)
    assert torch.equal(model(q, m5, d, m6, torch.tensor([0, 1]))[0], loaded(q, m5, d, m6, torch.tensor([0, 1]))[0])
    assert "token head id" in (path / "README.md").read_text()
    (path / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="damaged"):
        checkpoint.load(path)
    with pytest.raises(CheckpointError, match="verirank train"):
        checkpoint.load(tmp_path / "nothing")


def test_a_stage_starts_from_a_run_or_a_checkpoint_directory(tmp_path):
    model = Verifier(CFG).eval()
    torch.save({"model": model.state_dict(), "step": 3}, tmp_path / "last.pt")
    directory = checkpoint.save(model, Calibration(), tmp_path / "ck")
    for source in (tmp_path / "last.pt", directory):
        weights = initial_weights(str(source))
        assert weights.keys() == model.state_dict().keys()
        assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    with pytest.raises(FileNotFoundError, match="earlier stage"):
        initial_weights(str(tmp_path / "missing.pt"))


def test_temperature_calibration_recovers_scale():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, 20000)
    labels = (rng.random(20000) < 1 / (1 + np.exp(-true_logits))).astype(int)
    mc = fit_mode_calibration(true_logits * 3.0, labels)  # overconfident by 3x
    assert mc.temperature == pytest.approx(3.0, rel=0.1)
    p = 1 / (1 + np.exp(-(true_logits * 3.0 / mc.temperature + mc.bias)))
    assert expected_calibration_error(p, labels) < 0.02
    raw = 1 / (1 + np.exp(-true_logits * 3.0))
    assert expected_calibration_error(raw, labels) > 0.05


def test_loss_decreases_on_a_learnable_toy_problem():
    """Positives repeat the query; negatives are random: a few steps must separate them."""
    import random

    from verirank.verifier.data import Example
    from verirank.verifier.states import StateCache

    rng = np.random.default_rng(0)
    cache = StateCache(96)
    texts = [f"t{i}" for i in range(40)]
    encoded = {t: rng.normal(size=(int(rng.integers(3, 9)), 384)).astype(np.float32) for t in texts}
    pooled = {t: rng.normal(size=384).astype(np.float32) for t in texts}
    cache.fill(texts, lambda part: ([encoded[t] for t in part], np.stack([pooled[t] for t in part])))
    groups = [Example(1, texts[i], [texts[i], texts[(i + 7) % 40]], [1, 0], [0, 1]) for i in range(40)]
    torch.manual_seed(0)
    model = Verifier(CFG)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    r = random.Random(0)
    for _ in range(60):
        b = make_batch(r.sample(groups, 16), cache, CFG, r, per_group=2, in_batch=1)
        from verirank.verifier.train import batch_logits

        logits, cats = batch_logits(model, b)
        loss = loss_fn(logits, cats, b, 1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])


def test_block_attention_matches_multihead_attention():
    """Block.attend (scaled_dot_product_attention) equals nn.MultiheadAttention with the same weights."""
    torch.manual_seed(0)
    block = Block(32, 4, 2, dropout=0.0).eval()
    x = torch.randn(5, 11, 32)
    pad = torch.zeros(5, 11, dtype=torch.bool)
    pad[:, 8:] = True
    pad[2, 3:] = True
    with torch.inference_mode():
        h = block.norm1(x)
        expected, _ = block.attn(h, h, h, key_padding_mask=pad, need_weights=False)
        got = block.attend(h, pad)
    real = ~pad  # padded query rows are never read downstream
    np.testing.assert_allclose(got[real].numpy(), expected[real].numpy(), atol=1e-5)
