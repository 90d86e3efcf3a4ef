"""The reproduction's map CNN: fixed-size cosine maps against a loop, the network's shapes, training on a
toy separable set, and the saved file rebuilding the model."""

from __future__ import annotations

import numpy as np
import pytest

from verirank.errors import ConfigError
from verirank.eval.reproduce.cnn import MapCNN, MapCNNConfig, build_map_cnn, fixed_maps, train_map_cnn
from verirank.eval.reproduce.stage2 import token_states

torch = pytest.importorskip("torch")


def test_fixed_maps_crop_pad_and_match_a_loop() -> None:
    rng = np.random.default_rng(0)
    q, d = rng.normal(size=(40, 8)), rng.normal(size=(10, 8))
    maps = fixed_maps([(q, d)], MapCNNConfig())
    assert maps.shape == (1, 2, 32, 96) and maps.dtype == np.float32
    for i in (0, 17, 31):
        for j in (0, 9):
            cos = q[i] @ d[j] / np.linalg.norm(q[i]) / np.linalg.norm(d[j])
            assert maps[0, 0, i, j] == pytest.approx(cos, abs=1e-5)
    assert not maps[0, 0, :, 10:].any()  # padded candidate columns
    assert maps[0, 1].sum() == 32 * 10 and maps[0, 1, :, :10].all()  # mask: the real cells only


def test_network_maps_a_batch_of_maps_to_one_logit_each() -> None:
    for config in (MapCNNConfig(), MapCNNConfig(query_tokens=8, doc_tokens=12, channels=(4, 8), hidden=8)):
        model = build_map_cnn(config)
        logits = model(torch.zeros(3, 2, config.query_tokens, config.doc_tokens))
        assert logits.shape == (3,)


def _toy_states(texts: list[str]) -> list[np.ndarray]:
    """Anchor ``a<i>``: random token states; ``p<i>``: the anchor's, slightly perturbed (a match);
    ``n<i>``: unrelated random states (a non-match)."""
    out = []
    for t in texts:
        i = int(t[1:])
        base = np.random.default_rng(i).normal(size=(4 + i % 7, 16))
        if t[0] == "p":
            base = base + 0.1 * np.random.default_rng(10_000 + i).normal(size=base.shape)
        elif t[0] == "n":
            base = np.random.default_rng(20_000 + i).normal(size=(4 + i % 5, 16))
        out.append(base.astype(np.float16))
    return out


def _toy_pairs(ids: range) -> list[tuple[str, str, int]]:
    return [(f"a{i}", f"p{i}", 1) for i in ids] + [(f"a{i}", f"n{i}", 0) for i in ids]


def test_training_lowers_the_loss_and_the_file_rebuilds_the_model(tmp_path) -> None:
    config = MapCNNConfig(query_tokens=12, doc_tokens=16, channels=(8, 8), hidden=8)
    meta = train_map_cnn(_toy_pairs(range(200)), _toy_states, tmp_path, steps=60, batch=16, lr=1e-2, seed=0,
                         config=config)
    assert meta["loss_last"] < 0.5 * meta["loss_first"]
    assert meta["config"]["doc_tokens"] == 16 and meta["steps"] == 60
    cnn = MapCNN(tmp_path / "model.safetensors")
    assert cnn.config == config
    held_out = _toy_pairs(range(500, 540))
    states = _toy_states([a for a, _, _ in held_out] + [t for _, t, _ in held_out])
    scores = cnn.score_pairs(list(zip(states[: len(held_out)], states[len(held_out) :])), batch_size=7)
    labels = np.array([y for *_, y in held_out])
    assert scores.shape == (80,) and scores[labels == 1].mean() > scores[labels == 0].mean()
    n = len(held_out)
    one_anchor = cnn.score_states(states[0], [states[n], states[n + 40]])  # a500 against p500 and n500
    assert one_anchor == pytest.approx(scores[[0, 40]], abs=1e-4)


def test_training_refuses_a_batch_larger_than_the_data(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cnn_batch"):
        train_map_cnn(_toy_pairs(range(2)), _toy_states, tmp_path, steps=1, batch=8, lr=1e-3, seed=0)


def test_weights_without_a_config_are_refused(tmp_path) -> None:
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(1)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ConfigError, match="retrain"):
        MapCNN(tmp_path / "model.safetensors")


class _FakeEncoder:
    def __init__(self) -> None:
        self.last_states: dict[str, np.ndarray] = {}
        self.pooled_of: dict[str, np.ndarray] = {}
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> None:
        self.encoded += texts
        for t in texts:
            self.last_states[t] = np.full((len(t), 4), float(len(t)), dtype=np.float16)
            self.pooled_of[t] = np.zeros(4)


def test_token_states_encode_each_missing_text_once() -> None:
    enc = _FakeEncoder()
    enc.last_states["kept"] = np.ones((1, 4), dtype=np.float16)
    states = token_states(enc, ["ab", "kept", "ab", "cde"], keep=False)
    assert [s.shape[0] for s in states] == [2, 1, 2, 3]
    assert enc.encoded == ["ab", "cde"]
    assert set(enc.last_states) == {"kept"} and not enc.pooled_of  # the newly encoded ones were dropped
    token_states(enc, ["ab"])
    assert "ab" in enc.last_states


def test_cnn_steps_shrink_with_the_scale() -> None:
    from verirank.eval.reproduce.config import SCALES

    assert SCALES["smoke"].cnn_steps < SCALES["quick"].cnn_steps < SCALES["full"].cnn_steps
    assert SCALES["smoke"].cnn_batch <= SCALES["quick"].cnn_batch <= SCALES["full"].cnn_batch


def test_stage2_outputs_from_before_the_cnn_are_found_stale(tmp_path) -> None:
    from verirank.eval.reproduce.cache import write_json
    from verirank.eval.reproduce.run import _missing_systems
    from verirank.eval.reproduce.stage2 import SYSTEMS

    old = [s for s in SYSTEMS if s != "simmap_cnn"]
    write_json(tmp_path / "c.json", {"systems": dict.fromkeys(old, {})})
    write_json(tmp_path / "latency.json", {"ms_per_query": dict.fromkeys(SYSTEMS, 1.0)})
    assert _missing_systems(tmp_path / "c.json", SYSTEMS) == ["simmap_cnn"]
    assert _missing_systems(tmp_path / "latency.json", SYSTEMS) == []
    assert _missing_systems(tmp_path / "absent.json", SYSTEMS) == []


def test_every_step_has_a_function() -> None:
    from verirank.eval.reproduce.run import STEP_FUNCTIONS, STEPS

    assert "cnn" in STEPS and STEPS.index("cnn") < STEPS.index("nearmiss") < STEPS.index("stage2")
    assert set(STEP_FUNCTIONS) == set(STEPS)
