"""HTTP service (FastAPI, extra ``[server]``): ``create_app(pipeline)``."""

from verirank.service.app import create_app

__all__ = ["create_app"]
