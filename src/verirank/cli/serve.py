"""``verirank serve``: the HTTP service over an index (or an empty in-memory one)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer

from verirank.cli.app import RuntimeOpt, app, fail
from verirank.errors import VerirankError

log = logging.getLogger(__name__)


@app.command()
def serve(
    index_dir: Annotated[Optional[Path], typer.Option(
        "--index", "-i", help="Index directory (or postgresql:// DSN); omitted: an empty in-memory index.")] = None,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    api_key: Annotated[Optional[str], typer.Option(
        envvar="VERIRANK_API_KEY", help="Bearer token required on every route but /, /healthz, /readyz and the docs.",
        show_default=False)] = None,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body accepted (413 above).")] = 2_000_000,
    max_candidates: Annotated[int, typer.Option(help="Most candidates per verify/rerank request.")] = 256,
    max_documents: Annotated[int, typer.Option(help="Most documents per /v1/documents request.")] = 256,
    max_k: Annotated[int, typer.Option(help="Largest k per search.")] = 100,
    batch_window_ms: Annotated[float, typer.Option(help="How long a model call waits for concurrent ones.")] = 2.0,
    max_batch: Annotated[int, typer.Option(help="Most calls coalesced into one model call.")] = 64,
    runtime: RuntimeOpt = "torch",
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve search, verify, rerank (Cohere-compatible), explain, documents, probes, metrics and
    the inspector page (GET /) over HTTP. The model loads once, in the background."""
    from verirank._optional import require
    from verirank.pipeline import Pipeline
    from verirank.service import ServiceConfig, create_app

    def load() -> Pipeline:
        if index_dir is None:
            return Pipeline.default(runtime=runtime)
        location = str(index_dir) if str(index_dir).startswith("postgres") else index_dir
        return Pipeline.open(location, runtime=runtime)

    try:
        uvicorn = require("uvicorn", extra="server")
        if index_dir is not None and not str(index_dir).startswith("postgres") and not index_dir.exists():
            raise VerirankError(f"no index at {index_dir}; build one with `verirank index corpus.jsonl --index "
                                f"{index_dir}` or omit --index for an empty in-memory one")
        config = ServiceConfig(api_key=api_key or None, max_body_bytes=max_body_bytes, max_candidates=max_candidates,
                               max_documents=max_documents, max_k=max_k, batch_window_ms=batch_window_ms,
                               max_batch=max_batch)
        app_ = create_app(loader=load, config=config)
    except VerirankError as exc:
        fail(exc)
        return
    uvicorn.run(app_, host=host, port=port, log_level=log_level, timeout_keep_alive=30, backlog=4096)
