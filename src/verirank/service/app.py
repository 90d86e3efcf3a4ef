"""FastAPI app factory: the routes of the HTTP API (extra ``[server]``).

``create_app(pipeline)`` serves a loaded pipeline; ``create_app(loader=...)`` loads one in the
background (``/readyz`` answers 503 until it is there). Model calls of concurrent requests are
micro-batched (``service.batching``); ``service.http`` turns every failure into a JSON body.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from importlib import resources
from typing import Any

from verirank._optional import require
from verirank.errors import ConfigError, InputError
from verirank.service.engine import Engine, ServiceConfig
from verirank.service.http import (
    DOCS_ASSETS,
    LimitExceeded,
    ServiceMiddleware,
    error_response,
    install_error_handlers,
)
from verirank.service.metrics import ServiceMetrics
from verirank.service.schemas import (
    DocumentOut, DocumentsRequest, DocumentsResponse, ErrorBody, ExplainRequest, Health, RerankRequest,
    RerankResponse, RerankResult, SearchRequest, VerifyRequest,
)
from verirank.types import IndexInfo, SearchHit, TokenAlignment, Verdict

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 413, 422, 500, 503)
}


def create_app(pipeline: Any = None, *, loader: Callable[[], Any] | None = None,
               config: ServiceConfig | None = None) -> Any:
    fastapi = require("fastapi", extra="server")
    from fastapi.responses import HTMLResponse, Response
    from starlette.concurrency import run_in_threadpool

    if (pipeline is None) == (loader is None):
        raise ConfigError("create_app takes a loaded pipeline or a loader (a function returning one), not both "
                          "or neither")
    config = config or ServiceConfig()
    metrics = ServiceMetrics()
    engine = Engine(config, observe=metrics.observe_batch)
    if pipeline is not None:
        engine.attach(pipeline)
    else:
        engine.load_in_background(loader)  # type: ignore[arg-type]

    app = fastapi.FastAPI(title="verirank", version=_version(), responses=ERRORS, docs_url=None, redoc_url=None,
                          description="Two-stage retrieval with a near-miss verifier. Every route but /, /healthz, "
                                      "/readyz and the docs takes 'Authorization: Bearer <key>' when a key is set.")
    app.state.engine = engine
    install_docs(app)
    install_error_handlers(app)
    app.add_middleware(ServiceMiddleware, api_key=config.api_key, max_body_bytes=config.max_body_bytes,
                       metrics=metrics)

    def limit(what: str, n: int, cap: int) -> None:
        if n > cap:
            raise LimitExceeded(f"{n} {what} (this server's limit is {cap}); split the request")

    # ---- probes, metrics, the inspector page --------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def inspector() -> Any:
        return HTMLResponse(resources.files("verirank.service").joinpath("static/inspector.html").read_text("utf-8"))

    @app.get("/healthz", response_model=Health, response_model_exclude_none=True)
    async def healthz() -> Health:
        """Liveness: the process answers (the model may still be loading)."""
        return Health(status="loading" if engine.loading else "ok")

    @app.get("/readyz", response_model=Health, responses={503: {"model": Health}})
    async def readyz() -> Any:
        """Readiness: the model is loaded and the index answers."""
        try:
            documents = await run_in_threadpool(lambda: engine.read(lambda p: len(p.index)))
            verifier = engine.pipeline.verifier is not None
        except Exception as exc:  # any failure means not ready; the body says why
            status = "loading" if engine.loading else "unavailable"
            return fastapi.responses.JSONResponse(status_code=503, content=Health(status=status, detail=str(exc))
                                                  .model_dump())
        return Health(status="ok", documents=documents, verifier=verifier)

    @app.get("/metrics", response_class=Response)
    async def prometheus() -> Any:
        """Prometheus text format: requests and latency per route, model calls per stage, verdicts."""
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.get("/v1/info", response_model=IndexInfo)
    async def info() -> IndexInfo:
        return await run_in_threadpool(lambda: engine.read(lambda p: p.info()))

    # ---- verification -----------------------------------------------------------------------
    @app.post("/v1/search", response_model=list[SearchHit])
    async def search(req: SearchRequest) -> list[SearchHit]:
        """Stage-1 recall, then (level light/full/strict) verdicts with p_match and reasons."""
        limit("results (k)", req.k, config.max_k)
        limit("candidates", req.candidates or 0, config.max_candidates)
        hits = await run_in_threadpool(lambda: engine.read(lambda p: p.search(
            req.query, req.k, level=req.level, mode=req.mode, candidates=req.candidates, where=req.where,
            budget_ms=req.budget_ms, keep_rejected=req.keep_rejected)))
        metrics.count_verdicts(req.mode.value, (h.decision for h in hits))
        return hits  # type: ignore[no-any-return]

    @app.post("/v1/verify", response_model=list[Verdict])
    async def verify(req: VerifyRequest) -> list[Verdict]:
        """Verdicts for the query against each candidate text (no index needed)."""
        limit("candidates", len(req.candidates), config.max_candidates)
        verdicts = await run_in_threadpool(lambda: engine.pipeline.verify(req.query, req.candidates, mode=req.mode,
                                                                          level=req.level))
        metrics.count_verdicts(req.mode.value, (v.decision for v in verdicts))
        return verdicts  # type: ignore[no-any-return]

    async def rerank(req: RerankRequest) -> RerankResponse:
        """Cohere-compatible rerank; ``relevance_score`` is verirank's final score (stage-1 cosine,
        moved by p_match where the verdicts act, rejected documents 1.0 lower), with ``decision``,
        ``p_match`` and ``reasons``."""
        texts = req.texts()
        limit("documents", len(texts), config.max_candidates)
        hits = await run_in_threadpool(lambda: engine.pipeline.rerank(req.query, texts, req.top_n, mode=req.mode,
                                                                      level=req.level))
        metrics.count_verdicts(req.mode.value, (h.decision for h in hits))
        results = [RerankResult(index=int(h.id), relevance_score=h.score, p_match=h.p_match, decision=h.decision,
                                reasons=h.reasons, stage1_score=h.stage1_score,
                                document={"text": h.text} if req.return_documents else None) for h in hits]
        return RerankResponse(id=str(uuid.uuid4()), results=results,
                              meta={"api_version": {"version": "2"}, "billed_units": {"search_units": 1}})

    app.post("/v1/rerank", response_model=RerankResponse, response_model_exclude_none=True)(rerank)
    app.post("/v2/rerank", response_model=RerankResponse, response_model_exclude_none=True,
             include_in_schema=False)(rerank)

    @app.post("/v1/explain", response_model=TokenAlignment)
    async def explain(req: ExplainRequest) -> TokenAlignment:
        """The verdict for one pair and the query x candidate token-similarity map the verifier read."""
        return await run_in_threadpool(  # type: ignore[no-any-return]
            lambda: engine.pipeline.explain(req.query, req.candidate, mode=req.mode, level=req.level))

    # ---- documents --------------------------------------------------------------------------
    @app.post("/v1/documents", response_model=DocumentsResponse)
    async def upsert(req: DocumentsRequest) -> DocumentsResponse:
        """Batch upsert: a document whose id is already indexed is replaced."""
        limit("documents", len(req.documents), config.max_documents)
        ids = [d.id for d in req.documents]
        if len(set(ids)) != len(ids):
            raise LimitExceeded("the batch repeats a document id; send each id once")

        def write(p: Any) -> DocumentsResponse:
            done = p.upsert([d.text for d in req.documents], ids, [d.metadata for d in req.documents])
            return DocumentsResponse(ids=done, count=len(p.index))

        return await run_in_threadpool(lambda: engine.write(write))  # type: ignore[no-any-return]

    @app.get("/v1/documents/{doc_id}", response_model=DocumentOut)
    async def get_document(doc_id: str) -> Any:
        try:
            found = await run_in_threadpool(lambda: engine.read(lambda p: p.index.get([doc_id])))
        except InputError:  # the index's word for an unknown id
            found = []
        if not found:
            return error_response(404, "not_found", f"no document with id {doc_id!r}")
        return DocumentOut(id=found[0].id, text=found[0].text, metadata=found[0].metadata)

    @app.delete("/v1/documents/{doc_id}")
    async def delete_document(doc_id: str) -> Any:
        try:
            deleted = await run_in_threadpool(lambda: engine.write(lambda p: p.delete([doc_id])))
        except InputError:
            deleted = 0
        if not deleted:
            return error_response(404, "not_found", f"no document with id {doc_id!r}; nothing was deleted")
        return {"deleted": doc_id}

    return app


def install_docs(app: Any) -> None:
    """Swagger UI at /docs with its JavaScript and CSS served by this process (the swagger-ui-bundle
    package), so the page works on a machine without internet; FastAPI's default loads them from a CDN."""
    from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
    from fastapi.staticfiles import StaticFiles

    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # without the bundle: FastAPI's CDN-hosted page
        assets = None
    else:
        app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
        assets = DOCS_ASSETS

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Any:
        local = {"swagger_js_url": f"{assets}/swagger-ui-bundle.js", "swagger_css_url": f"{assets}/swagger-ui.css",
                 "swagger_favicon_url": f"{assets}/favicon-32x32.png"} if assets else {}
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} API",
                                   oauth2_redirect_url="/docs/oauth2-redirect", **local)

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def oauth2_redirect() -> Any:
        return get_swagger_ui_oauth2_redirect_html()


def _version() -> str:
    from verirank._version import __version__

    return __version__
