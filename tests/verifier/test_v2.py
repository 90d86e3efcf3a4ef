"""Verifier v2 pieces: the encoder-copy token head, the stage-1 cosine input, the pairwise loss,
the abstain band, and the training-set assembly."""

from __future__ import annotations

import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from verirank.types import Category, NearMissPair  # noqa: E402
from verirank.verifier import data as vdata  # noqa: E402
from verirank.verifier.model import Verifier, VerifierConfig  # noqa: E402
from verirank.verifier.train import Batch, fit_mode_calibration, loss_fn  # noqa: E402
from verirank.verifier.trainset import identity_examples, merge_generated, sample_groups  # noqa: E402

V2 = VerifierConfig(head="encoder", head_layers=2, head_heads=12, token_dim=16, d_model=32, n_heads=2,
                    dropout=0.0, use_cosine=True)


def test_encoder_head_starts_as_the_encoders_own_top_layers(torch_encoder):
    from safetensors.torch import load_file

    from verirank.encoders.minilm import model_dir

    model = Verifier(V2).eval()
    model.init_head_from_encoder(load_file(str(model_dir() / "model.safetensors")))
    tb = torch_encoder._tokenizer(["the dog bit the man in the park", "a cat"])
    mask = torch.from_numpy(tb.attention_mask).bool()
    with torch.no_grad():
        out = torch_encoder.model(input_ids=torch.from_numpy(tb.input_ids), attention_mask=mask.long(),
                                  token_type_ids=torch.from_numpy(tb.token_type_ids), output_hidden_states=True)
        x = out.hidden_states[V2.state_layer]
        for layer in model.head.layers:
            x = layer(x, ~mask)
    assert V2.state_layer == 4
    torch.testing.assert_close(x[mask], out.hidden_states[6][mask], atol=1e-4, rtol=1e-4)


def test_cosine_is_required_and_moves_the_logit():
    model = Verifier(V2).eval()
    g = torch.Generator().manual_seed(0)
    q, d = torch.randn(2, 5, 384, generator=g), torch.randn(2, 7, 384, generator=g)
    qm, dm = torch.ones(2, 5, dtype=torch.bool), torch.ones(2, 7, dtype=torch.bool)
    with pytest.raises(ValueError, match="cosine"):
        model(q, qm, d, dm, torch.tensor([1, 1]))
    low, _, _ = model(q, qm, d, dm, torch.tensor([1, 1]), torch.tensor([0.1, 0.1]))
    high, _, _ = model(q, qm, d, dm, torch.tensor([1, 1]), torch.tensor([0.9, 0.9]))
    assert not torch.allclose(low, high)


def _batch(labels: list[int], groups: list[int]) -> Batch:
    n = len(labels)
    long = lambda xs: torch.tensor(xs, dtype=torch.long)  # noqa: E731
    return Batch(torch.zeros(1), torch.zeros(1), torch.zeros(1), torch.zeros(1), long(groups), long(range(n)),
                 long([1] * n), long(labels), long([-1] * n), long(groups), torch.zeros(n))


def test_pairwise_term_penalises_a_negative_above_its_groups_positive_only():
    b = _batch([1, 0, 1, 0], [0, 0, 1, 1])
    right = torch.tensor([3.0, -3.0, 3.0, -3.0])
    # group 0 wrong way round; the other group's positive is never compared with it
    wrong = torch.tensor([-3.0, 3.0, 3.0, -3.0])
    cats = torch.zeros(4, 8)
    base = lambda lg: loss_fn(lg, cats, b, 0.0, 0.0)  # noqa: E731
    assert loss_fn(right, cats, b, 0.0, 1.0) - base(right) < 0.01
    assert loss_fn(wrong, cats, b, 0.0, 1.0) - base(wrong) > 2.0


def test_abstain_band_holds_at_most_the_asked_share():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 4000)
    logits = rng.normal(labels * 2.0 - 1.0, 1.0)
    cal = fit_mode_calibration(logits, labels, max_abstain=0.1)
    p = 1 / (1 + np.exp(-(logits / cal.temperature + cal.bias)))
    abstain = np.mean((p >= cal.reject) & (p < cal.accept))
    assert 0.05 < abstain <= 0.1 and cal.reject < 0.5 < cal.accept
    assert cal.accept - 0.5 == pytest.approx(0.5 - cal.reject)


def test_identity_groups_merge_generated_near_misses_beside_human_paraphrases():
    human = identity_examples([
        NearMissPair(anchor="A dog bit a man.", text="A man was bitten by a dog.", label=1, category=Category.MATCH),
        NearMissPair(anchor="A dog bit a man.", text="A cat bit a man.", label=0, category=Category.MATCH),
    ], "snli")
    generated = identity_examples([
        NearMissPair(anchor="A dog bit a man.", text="A man bit a dog.", label=0, category=Category.ROLE_REVERSAL),
        NearMissPair(anchor="Two birds sing.", text="Two birds do not sing.", label=0, category=Category.NEGATION),
    ], "generated")
    merged = merge_generated(human, generated)
    assert [ex.source for ex in merged] == ["snli", "generated"]
    snli = merged[0]
    assert snli.labels == [1, 0, 0]
    assert snli.categories == [vdata.CATEGORY_INDEX["match"], vdata.UNKNOWN, vdata.CATEGORY_INDEX["role_reversal"]]


def test_sample_groups_follows_source_weights_and_skips_empty_sources():
    pools = {"a": [vdata.Example(1, "qa")], "b": [vdata.Example(1, "qb")], "c": []}
    drawn = sample_groups(pools, {"a": 0.8, "b": 0.2, "c": 1.0}, 2000, random.Random(0))
    share = sum(ex.query == "qa" for ex in drawn) / len(drawn)
    assert 0.75 < share < 0.85
