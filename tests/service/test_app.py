"""The HTTP service in-process (no sockets): status codes and typed bodies."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

import verirank  # noqa: E402
from verirank.errors import BackendUnavailable  # noqa: E402
from verirank.service import create_app  # noqa: E402


@pytest.fixture(scope="module")
def client(torch_encoder):
    from verirank.verifier.runtime import NearMissVerifier

    pipe = verirank.Pipeline.default(encoder=torch_encoder, verifier=NearMissVerifier.load())
    pipe.add(["the dog bit the man", "the man bit the dog", "stocks fell on monday"], ids=["a", "b", "c"])
    return TestClient(create_app(pipe))


def test_search_and_verify(client):
    res = client.post("/v1/search", json={"query": "the dog bit the man", "k": 2})
    assert res.status_code == 200 and res.json()[0]["id"] in {"a", "b"}
    res = client.post("/v1/search", json={"query": "the dog bit the man", "k": 3, "level": "full",
                                          "mode": "identity", "keep_rejected": True})
    body = res.json()
    assert res.status_code == 200 and all(hit["verified"] for hit in body)
    res = client.post("/v1/verify", json={"query": "the dog bit the man", "candidates": ["the man bit the dog"],
                                          "mode": "identity"})
    assert res.status_code == 200 and res.json()[0]["decision"] in {"accept", "reject", "abstain"}
    assert client.get("/healthz").json()["documents"] == 3


def test_bad_input_gets_4xx_with_a_message(client):
    assert client.post("/v1/search", json={"query": "", "k": 2}).status_code == 422
    assert client.post("/v1/search", json={"query": "x", "level": "paranoid"}).status_code == 422
    res = client.post("/v1/documents", json={"texts": ["new doc"], "ids": ["a"]})
    assert res.status_code == 400 and "upsert" in res.json()["detail"]


def test_backend_down_is_503(torch_encoder):
    class DownIndex:
        spec = None

        def __len__(self):
            return 0

        def search(self, *a, **k):
            raise BackendUnavailable("database at 127.0.0.1:1 is unreachable; start it or fix the DSN")

    pipe = verirank.Pipeline.default(encoder=torch_encoder, verifier=None)
    pipe.index = DownIndex()
    res = TestClient(create_app(pipe)).post("/v1/search", json={"query": "anything"})
    assert res.status_code == 503 and "unreachable" in res.json()["detail"]
