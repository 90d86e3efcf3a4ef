"""/v1/rerank and /v2/rerank with Cohere's own Python client (in-process, no sockets): an existing
Cohere client works unchanged against verirank, and sees verirank's extra fields."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
cohere = pytest.importorskip("cohere", reason='cohere missing: pip install "verirank[test]"')
from fastapi.testclient import TestClient  # noqa: E402

import verirank  # noqa: E402
from verirank.service import ServiceConfig, create_app  # noqa: E402

# Cohere's client passes a timeout per request, which TestClient ignores (and says so)
pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

DOCS = ["stocks fell on monday", "the man bit the dog", "the dog bit the man"]


@pytest.fixture(scope="module")
def http(torch_encoder, shipped_verifier):
    pipe = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped_verifier)
    return TestClient(create_app(pipe, config=ServiceConfig(api_key="k3y")))


def test_cohere_v2_client(http):
    co = cohere.ClientV2(api_key="k3y", base_url=str(http.base_url), httpx_client=http)
    res = co.rerank(model="rerank-v3.5", query="the dog bit the man", documents=DOCS, top_n=2)
    assert [r.index for r in res.results][0] == 2 and len(res.results) == 2
    assert res.results[0].relevance_score > res.results[1].relevance_score
    extra = res.results[0].model_dump()
    assert extra["decision"] == "accept" and "p_match" in extra and "reasons" in extra


def test_cohere_v1_client_with_documents(http):
    co = cohere.Client(api_key="k3y", base_url=str(http.base_url), httpx_client=http)
    res = co.rerank(model="rerank-english-v3.0", query="the dog bit the man", documents=DOCS, top_n=3,
                    return_documents=True)
    assert [r.document.text for r in res.results][0] == "the dog bit the man"
    assert {r.index for r in res.results} == {0, 1, 2}


def test_cohere_client_sees_a_wrong_key(http):
    co = cohere.ClientV2(api_key="wrong", base_url=str(http.base_url), httpx_client=http)
    with pytest.raises(cohere.core.api_error.ApiError) as err:
        co.rerank(model="m", query="q", documents=["d"])
    assert err.value.status_code == 401
