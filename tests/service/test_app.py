"""The HTTP service in-process (no sockets): each route's success, and each class of bad input
answered with a 4xx JSON body (never a 500 with a stack trace)."""

from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("prometheus_client")
from fastapi.testclient import TestClient  # noqa: E402

import verirank  # noqa: E402
from verirank.errors import BackendUnavailable  # noqa: E402
from verirank.service import ServiceConfig, create_app  # noqa: E402

DOCS = ["the dog bit the man", "the man bit the dog", "stocks fell on monday"]
KEY = "s3cret"


@pytest.fixture(scope="module")
def pipe(torch_encoder, shipped_verifier):
    pipe = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped_verifier)
    pipe.add(DOCS, ids=["a", "b", "c"], metadata=[{"kind": "fact"}, {"kind": "swap"}, {"kind": "news"}])
    return pipe


@pytest.fixture(scope="module")
def client(pipe):
    return TestClient(create_app(pipe, config=ServiceConfig(max_candidates=8, max_documents=4, max_k=20,
                                                             max_body_bytes=20_000)),
                      raise_server_exceptions=False)


def _error(res, status, error=None):
    assert res.status_code == status, res.text
    body = res.json()
    assert set(body) == {"error", "detail"} and body["detail"], body
    if error is not None:
        assert body["error"] == error, body
    return body


# ---- success ---------------------------------------------------------------------------------
def test_search_stage1_and_verified(client):
    res = client.post("/v1/search", json={"query": "the dog bit the man", "k": 2})
    assert res.status_code == 200 and res.json()[0]["id"] in {"a", "b"}
    assert all(hit["verified"] for hit in res.json())  # the default level with a verifier is full
    res = client.post("/v1/search", json={"query": "the dog bit the man", "k": 2, "level": "off"})
    assert res.status_code == 200 and not any(hit["verified"] for hit in res.json())
    res = client.post("/v1/search", json={"query": "the dog bit the man", "k": 3, "level": "full",
                                          "mode": "identity", "keep_rejected": True, "candidates": 3})
    body = res.json()
    assert res.status_code == 200 and all(hit["verified"] for hit in body)
    by_id = {hit["id"]: hit for hit in body}
    assert by_id["a"]["decision"] == "accept" and by_id["b"]["decision"] == "reject"
    assert by_id["b"]["reasons"][0]["category"] == "role_reversal"
    assert {"stage1_score", "p_match", "decision", "reasons"} <= set(by_id["b"])
    res = client.post("/v1/search", json={"query": "dog", "k": 3, "where": {"kind": "news"}, "budget_ms": 50,
                                          "level": "light"})
    assert res.status_code == 200 and [h["id"] for h in res.json()] == ["c"]


def test_verify(client):
    res = client.post("/v1/verify", json={"query": "the dog bit the man", "candidates": ["the man bit the dog"],
                                          "mode": "identity", "level": "strict"})
    assert res.status_code == 200
    (verdict,) = res.json()
    assert verdict["decision"] == "reject" and verdict["reasons"][0]["candidate_span"]["text"]


def test_verify_reads_a_yes_no_question_both_ways(client):
    # the service's batched verifier takes the opposite question too (the passage says no, and answers)
    res = client.post("/v1/verify", json={"query": "Is breakfast included in the room price?",
                                          "candidates": ["The hotel breakfast is not included in the room price."]})
    assert res.status_code == 200, res.text
    (verdict,) = res.json()
    assert verdict["decision"] == "accept" and "asked the other way" in verdict["reasons"][0]["note"]


def test_rerank_is_cohere_compatible(client):
    docs = ["stocks fell on monday", {"text": "the man bit the dog"}, "the dog bit the man"]
    res = client.post("/v1/rerank", json={"model": "rerank-english-v3.0", "query": "the dog bit the man",
                                          "documents": docs, "top_n": 2, "return_documents": True,
                                          "mode": "identity"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["id"] and len(body["results"]) == 2
    first = body["results"][0]
    assert first["index"] == 2 and first["document"] == {"text": "the dog bit the man"}
    assert first["decision"] == "accept" and 0 <= first["p_match"] <= 1
    scores = [r["relevance_score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    res = client.post("/v2/rerank", json={"query": "dog", "documents": ["a dog", "a cat"]})
    assert res.status_code == 200 and "document" not in res.json()["results"][0]


def test_explain_returns_the_token_map(client):
    res = client.post("/v1/explain", json={"query": "the dog bit the man", "candidate": "the man bit the dog",
                                           "mode": "identity"})
    assert res.status_code == 200
    body = res.json()
    assert [t["text"] for t in body["query_tokens"]] == ["the", "dog", "bit", "the", "man"]
    assert len(body["similarity"]) == 5 and len(body["similarity"][0]) == len(body["candidate_tokens"])
    assert body["verdict"]["decision"] == "reject"


def test_documents_upsert_get_delete(client):
    res = client.post("/v1/documents", json={"documents": [{"id": "n1", "text": "rain is expected tomorrow",
                                                            "metadata": {"kind": "weather"}},
                                                           {"id": "c", "text": "stocks rose on monday"}]})
    assert res.status_code == 200 and res.json() == {"ids": ["n1", "c"], "count": 4}
    assert client.get("/v1/documents/c").json()["text"] == "stocks rose on monday"  # replaced
    assert client.get("/v1/documents/n1").json()["metadata"] == {"kind": "weather"}
    assert client.delete("/v1/documents/n1").json() == {"deleted": "n1"}
    _error(client.get("/v1/documents/n1"), 404, "not_found")
    _error(client.delete("/v1/documents/n1"), 404, "not_found")


def test_probes_metrics_docs_and_page(client):
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready["status"] == "ok" and ready["verifier"] is True and ready["documents"] >= 3
    client.post("/v1/verify", json={"query": "q", "candidates": ["q"]})
    client.post("/v1/search", json={"query": "q"})
    text = client.get("/metrics").text
    assert 'verirank_stage_latency_seconds_count{stage="recall"}' in text
    assert 'verirank_requests_total{route="/v1/verify",status="200"}' in text
    assert 'verirank_stage_latency_seconds_count{stage="verify"}' in text
    assert "verirank_verdicts_total{" in text and "verirank_batch_size_bucket" in text
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/search", "/v1/verify", "/v1/rerank", "/v1/explain", "/v1/documents"} <= set(paths)
    assert "<canvas" in client.get("/").text or "heatmap" in client.get("/").text


def test_docs_page_needs_nothing_from_outside(client):
    page = client.get("/docs").text
    assert "/docs/assets/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    js = client.get("/docs/assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/docs/oauth2-redirect").status_code == 200
    assert client.get("/redoc").status_code == 404  # no offline copy of ReDoc


# ---- bad input: one case per class and route ---------------------------------------------------
@pytest.mark.parametrize("route", ["/v1/search", "/v1/verify", "/v1/rerank", "/v1/explain", "/v1/documents"])
def test_malformed_json_is_422(client, route):
    res = client.post(route, content=b'{"query": "x",', headers={"content-type": "application/json"})
    _error(res, 422, "malformed_json")


@pytest.mark.parametrize("route,body", [
    ("/v1/search", {"query": ""}),
    ("/v1/search", {"query": "   "}),
    ("/v1/verify", {"query": "", "candidates": ["x"]}),
    ("/v1/rerank", {"query": " ", "documents": ["x"]}),
    ("/v1/explain", {"query": "", "candidate": "x"}),
])
def test_empty_query_is_422(client, route, body):
    _error(client.post(route, json=body), 422, "invalid_request")


@pytest.mark.parametrize("route,body", [
    ("/v1/search", {"query": "x", "level": "paranoid"}),
    ("/v1/search", {"query": "x", "mode": "vibes"}),
    ("/v1/verify", {"query": "x", "candidates": ["y"], "level": "max"}),
    ("/v1/rerank", {"query": "x", "documents": ["y"], "mode": "nope"}),
    ("/v1/explain", {"query": "x", "candidate": "y", "level": "LOUD"}),
])
def test_unknown_level_or_mode_is_422(client, route, body):
    res = _error(client.post(route, json=body), 422, "invalid_request")
    assert "level" in str(res["detail"]) or "mode" in str(res["detail"])


@pytest.mark.parametrize("route,body", [
    ("/v1/search", {"query": "x", "k": "ten"}),
    ("/v1/search", {"query": 5}),
    ("/v1/verify", {"query": "x", "candidates": "y"}),
    ("/v1/verify", {"query": "x", "candidates": [1, 2]}),
    ("/v1/rerank", {"query": "x", "documents": [{"txt": "y"}]}),
    ("/v1/rerank", {"query": "x", "documents": ["y"], "top_n": 0}),
    ("/v1/explain", {"query": "x"}),
    ("/v1/documents", {"documents": [{"id": "x"}]}),
    ("/v1/documents", {"texts": ["old format"]}),
    ("/v1/search", ["not", "an", "object"]),
])
def test_wrong_types_are_422(client, route, body):
    _error(client.post(route, json=body), 422, "invalid_request")


@pytest.mark.parametrize("route,body", [
    ("/v1/verify", {"query": "x", "candidates": ["y"] * 9}),
    ("/v1/rerank", {"query": "x", "documents": ["y"] * 9}),
    ("/v1/search", {"query": "x", "k": 21}),
    ("/v1/search", {"query": "x", "candidates": 9, "level": "full"}),
    ("/v1/documents", {"documents": [{"id": str(i), "text": "t"} for i in range(5)]}),
    ("/v1/documents", {"documents": [{"id": "same", "text": "t"}, {"id": "same", "text": "u"}]}),
])
def test_over_the_limits_is_422(client, route, body):
    _error(client.post(route, json=body), 422, "limit_exceeded")


def test_oversized_body_and_empty_candidate(client):
    _error(client.post("/v1/verify", json={"query": "x", "candidates": ["y" * 30_000]}), 413, "request_too_large")
    _error(client.post("/v1/verify", json={"query": "x", "candidates": ["  "]}), 400, "InputError")
    _error(client.post("/v1/search", content=b"[" * 5000, headers={"content-type": "application/json"}), 400,
           "malformed_body")  # nesting too deep for the JSON parser
    _error(client.post("/v1/search", content=b'{"query": "x"}', headers={"content-type": "text/plain"}), 422)
    _error(client.get("/v1/nowhere"), 404, "not_found")
    _error(client.get("/v1/search"), 405, "method_not_allowed")


# ---- auth, unavailable backends, loading -------------------------------------------------------
def test_api_key_guards_every_route_but_the_probes(pipe):
    client = TestClient(create_app(pipe, config=ServiceConfig(api_key=KEY)))
    for method, path in [("post", "/v1/search"), ("post", "/v1/verify"), ("post", "/v1/rerank"),
                         ("post", "/v1/explain"), ("post", "/v1/documents"), ("get", "/v1/documents/a"),
                         ("delete", "/v1/documents/a"), ("get", "/metrics"), ("get", "/v1/info")]:
        res = getattr(client, method)(path)
        assert _error(res, 401, "unauthorized") and res.headers["www-authenticate"] == "Bearer"
    res = client.post("/v1/verify", json={"query": "x", "candidates": ["y"]}, headers={"Authorization": "Bearer no"})
    _error(res, 401)
    res = client.post("/v1/verify", json={"query": "x", "candidates": ["y"]},
                      headers={"Authorization": f"Bearer {KEY}"})
    assert res.status_code == 200
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 200
    assert client.get("/docs").status_code == 200 and client.get("/docs/assets/swagger-ui.css").status_code == 200


def test_backend_down_is_503(torch_encoder):
    pipe = verirank.Pipeline.default(encoder=torch_encoder, verifier=None)

    class DownIndex:
        spec = pipe.index.spec

        def __len__(self):
            raise BackendUnavailable("database at 127.0.0.1:1 is unreachable; start it or fix the DSN")

        def search(self, *a, **k):
            raise BackendUnavailable("database at 127.0.0.1:1 is unreachable; start it or fix the DSN")

    pipe.index = DownIndex()
    client = TestClient(create_app(pipe), raise_server_exceptions=False)
    body = _error(client.post("/v1/search", json={"query": "anything"}), 503, "backend_unavailable")
    assert "unreachable" in body["detail"]
    res = client.get("/readyz")
    assert res.status_code == 503 and "unreachable" in res.json()["detail"]
    assert client.get("/healthz").status_code == 200


def test_loading_and_failed_loads_are_503(pipe):
    gate = threading.Event()

    def slow_loader():
        gate.wait(10)
        return pipe

    client = TestClient(create_app(loader=slow_loader))
    assert client.get("/healthz").json()["status"] == "loading"
    assert client.get("/readyz").json()["status"] == "loading"
    body = _error(client.post("/v1/verify", json={"query": "x", "candidates": ["y"]}), 503)
    assert "loading" in body["detail"]
    gate.set()
    for _ in range(100):
        if client.get("/readyz").status_code == 200:
            break
        time.sleep(0.02)
    assert client.post("/v1/verify", json={"query": "x", "candidates": ["y"]}).status_code == 200

    def broken():
        raise verirank.CheckpointError("checkpoint at /nowhere is missing; pass a checkpoint directory")

    client = TestClient(create_app(loader=broken))
    for _ in range(250):  # the loader thread fails at once; give a loaded machine time to run it
        if client.get("/readyz").json()["status"] == "unavailable":
            break
        time.sleep(0.02)
    body = _error(client.post("/v1/search", json={"query": "x"}), 503)
    assert "/nowhere" in body["detail"] and client.get("/readyz").json()["status"] == "unavailable"


def test_create_app_takes_a_pipeline_or_a_loader(pipe):
    with pytest.raises(verirank.ConfigError, match="not both"):
        create_app(pipe, loader=lambda: pipe)
    with pytest.raises(verirank.ConfigError, match="neither"):
        create_app()


def test_unexpected_errors_hide_the_trace(pipe):
    class Boom:
        def __getattr__(self, name):
            raise RuntimeError("secret internal detail")

    client = TestClient(create_app(pipe), raise_server_exceptions=False)
    client.app.state.engine._pipeline = Boom()
    body = _error(client.post("/v1/verify", json={"query": "x", "candidates": ["y"]}), 500, "internal_error")
    assert "secret" not in str(body) and "Traceback" not in str(body)


def test_concurrent_requests_are_batched(pipe):
    """Concurrent verify calls share model calls: fewer verify batches than requests, same verdicts."""
    app = create_app(pipe, config=ServiceConfig(batch_window_ms=20))
    client = TestClient(app)
    queries = [f"the dog bit the man {i}" for i in range(12)]
    results: dict[int, list] = {}

    def call(i):
        res = client.post("/v1/verify", json={"query": queries[i], "candidates": ["the man bit the dog"],
                                              "mode": "identity"})
        results[i] = res.json()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(queries))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    text = client.get("/metrics").text
    batches = float(next(line.split()[-1] for line in text.splitlines()
                         if line.startswith('verirank_batch_size_count{stage="verify"}')))
    assert batches < len(queries)
    for i, q in enumerate(queries):
        alone = pipe.verify(q, ["the man bit the dog"], mode="identity")[0]
        assert results[i][0]["p_match"] == pytest.approx(alone.p_match, abs=1e-4)
