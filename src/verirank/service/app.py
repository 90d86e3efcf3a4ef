"""FastAPI app factory: /v1/search, /v1/verify, /v1/documents, /v1/info, /healthz.

Errors map to status codes: bad input 422/400, unknown ids 404-style 400 with the message,
a backend that cannot be reached 503; every body says what to do.
"""

from __future__ import annotations

from typing import Any

from verirank._optional import require
from verirank.errors import BackendUnavailable, ConfigError, InputError, VerirankError
from verirank.service.schemas import AddRequest, SearchRequest, VerifyRequest
from verirank.types import IndexInfo, SearchHit, Verdict


def create_app(pipeline: Any) -> Any:
    fastapi = require("fastapi", extra="server")
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    app = fastapi.FastAPI(title="verirank", version=_version())

    @app.exception_handler(BackendUnavailable)
    async def _unavailable(_: Any, exc: BackendUnavailable) -> Any:
        return JSONResponse(status_code=503, content={"error": "backend_unavailable", "detail": str(exc)})

    @app.exception_handler(InputError)
    @app.exception_handler(ConfigError)
    async def _bad_input(_: Any, exc: VerirankError) -> Any:
        return JSONResponse(status_code=400, content={"error": type(exc).__name__, "detail": str(exc)})

    @app.exception_handler(VerirankError)
    async def _other(_: Any, exc: VerirankError) -> Any:
        return JSONResponse(status_code=500, content={"error": type(exc).__name__, "detail": str(exc)})

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "documents": len(pipeline.index), "verifier": pipeline.verifier is not None}

    @app.get("/v1/info", response_model=IndexInfo)
    async def info() -> IndexInfo:
        return await run_in_threadpool(pipeline.info)

    @app.post("/v1/search", response_model=list[SearchHit])
    async def search(req: SearchRequest) -> list[SearchHit]:
        return await run_in_threadpool(
            lambda: pipeline.search(req.query, req.k, level=req.level, mode=req.mode, candidates=req.candidates,
                                    where=req.where, budget_ms=req.budget_ms, keep_rejected=req.keep_rejected))

    @app.post("/v1/verify", response_model=list[Verdict])
    async def verify(req: VerifyRequest) -> list[Verdict]:
        return await run_in_threadpool(lambda: pipeline.verify(req.query, req.candidates, mode=req.mode, level=req.level))

    @app.post("/v1/documents")
    async def add(req: AddRequest) -> dict[str, Any]:
        ids = await run_in_threadpool(lambda: pipeline.add(req.texts, req.ids, req.metadata, overwrite=req.upsert))
        return {"ids": ids, "count": len(pipeline.index)}

    return app


def _version() -> str:
    from verirank._version import __version__

    return __version__
