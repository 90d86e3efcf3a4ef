"""``verirank serve``: the HTTP service over an index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from verirank.cli.app import app, fail
from verirank.errors import VerirankError


@app.command()
def serve(
    index_dir: Annotated[Path, typer.Option("--index", "-i", help="Index directory (or postgresql:// DSN).")],
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Serve /v1/search, /v1/verify and /v1/documents over HTTP."""
    from verirank._optional import require
    from verirank.pipeline import Pipeline
    from verirank.service import create_app

    try:
        uvicorn = require("uvicorn", extra="server")
        location = str(index_dir) if str(index_dir).startswith("postgres") else index_dir
        app_ = create_app(Pipeline.open(location))
    except VerirankError as exc:
        fail(exc)
        return
    uvicorn.run(app_, host=host, port=port)
