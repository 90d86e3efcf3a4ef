"""HTTP plumbing: JSON error bodies for every failure, the body-size cap, per-route metrics and
the bearer-key check. Clients never see a stack trace; the server log keeps it."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from verirank.errors import BackendUnavailable, ConfigError, InputError, VerirankError

log = logging.getLogger(__name__)

# routes that answer without the API key: liveness/readiness probes, the inspector page, the docs
OPEN_PATHS = frozenset({"/", "/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/openapi.json"})
DOCS_ASSETS = "/docs/assets"  # the Swagger UI files, served from the swagger-ui-bundle package (no CDN)


class LimitExceeded(InputError):
    """A request is within the schema but over a limit of this deployment (ServiceConfig)."""


def error_response(status: int, error: str, detail: Any, headers: dict[str, str] | None = None) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse(status_code=status, content={"error": error, "detail": detail}, headers=headers)


def install_error_handlers(app: Any) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Any, exc: RequestValidationError) -> Any:
        problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                    for e in exc.errors()]
        kind = "malformed_json" if any(p["type"] == "json_invalid" for p in problems) else "invalid_request"
        return error_response(422, kind, problems)

    @app.exception_handler(HTTPException)
    async def _http(_: Any, exc: HTTPException) -> Any:
        names = {400: "malformed_body", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
        return error_response(exc.status_code, names.get(exc.status_code, "http_error"), exc.detail,
                              headers=getattr(exc, "headers", None))

    @app.exception_handler(LimitExceeded)
    async def _limit(_: Any, exc: LimitExceeded) -> Any:
        return error_response(422, "limit_exceeded", str(exc))

    @app.exception_handler(InputError)
    @app.exception_handler(ConfigError)
    async def _bad_input(_: Any, exc: VerirankError) -> Any:
        return error_response(400, type(exc).__name__, str(exc))

    @app.exception_handler(BackendUnavailable)
    async def _unavailable(_: Any, exc: BackendUnavailable) -> Any:
        return error_response(503, "backend_unavailable", str(exc), headers={"Retry-After": "5"})

    @app.exception_handler(VerirankError)
    async def _other(_: Any, exc: VerirankError) -> Any:
        log.error("request failed: %s", exc)
        return error_response(500, type(exc).__name__, str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(_: Any, exc: Exception) -> Any:
        log.exception("unexpected error")
        return error_response(500, "internal_error", "unexpected server error; the server log has the details")


class ServiceMiddleware:
    """Pure ASGI: bearer key, body-size cap (buffers the body, at most ``max_body_bytes``), then
    per-route request count and latency. Errors raised here are answered as JSON too."""

    def __init__(self, app: Any, *, api_key: str | None, max_body_bytes: int, metrics: Any) -> None:
        self.app = app
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_status(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            refusal = self._authorize(scope)
            if refusal is None:
                body, refusal = await self._read_body(scope, receive)
            if refusal is not None:
                await refusal(scope, receive, send_status)
                return
            await self.app(scope, _replay(body, receive), send_status)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or "unrouted"  # 404s, and requests refused before routing
            self.metrics.observe_request(label, status["code"], time.perf_counter() - started)

    def _authorize(self, scope: dict[str, Any]) -> Any:
        if self.api_key is None or scope["path"] in OPEN_PATHS or scope["path"].startswith(DOCS_ASSETS + "/"):
            return None
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), self.api_key.encode()):
            return None
        return error_response(401, "unauthorized", "missing or wrong API key; send 'Authorization: Bearer <key>'",
                              headers={"WWW-Authenticate": "Bearer"})

    async def _read_body(self, scope: dict[str, Any], receive: Any) -> tuple[bytes, Any]:
        too_large = error_response(413, "request_too_large",
                                   f"request body is over {self.max_body_bytes} bytes; send smaller batches")
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            return b"", too_large
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"", too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), None


def _replay(body: bytes, receive: Any) -> Any:
    """The buffered body once, then the client's own messages (a disconnect, when it comes)."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # type: ignore[no-any-return]

    return replay
