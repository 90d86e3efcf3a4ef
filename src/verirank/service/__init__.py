"""HTTP service (FastAPI, extra ``[server]``): ``create_app(pipeline)``."""

from verirank.service.app import create_app
from verirank.service.engine import ServiceConfig

__all__ = ["ServiceConfig", "create_app"]
