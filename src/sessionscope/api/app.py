"""The ASGI application: routers, error handlers (every error in the SPEC §10 shape), request ids."""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__, web
from ..errors import ApiError, StoreUnavailable
from ..ingest.writer import GroupWriter
from ..settings import Settings
from ..store import Store, open_store
from . import analytics, docs, events, export, health, ingest, sessions, users, video
from .metrics import Metrics
from .ratelimit import RateLimiter
from .responses import JSON

log = logging.getLogger("sessionscope.http")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_HTTP_MESSAGES = {
    404: "Not found: no such resource. Endpoints are under /v2 (see /docs).",
    405: "Method not allowed for this path.",
}


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    app = FastAPI(
        title="sessionscope",
        version=__version__,
        description="Session store with a UXCam Data Access API v2 compatible HTTP API.",
        default_response_class=JSON,
        docs_url=None,
        redoc_url=None,
    )
    docs.mount(app)
    app.state.settings = settings
    app.state.store = store if store is not None else open_store(settings.store_url(), **settings.store_options())
    app.state.writer = GroupWriter(app.state.store)
    app.state.secret = settings.resolved_secret()
    app.state.metrics = Metrics()
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_per_hour)

    for router in (sessions.router, analytics.router, ingest.router, video.router, health.router, web.router):
        app.include_router(router)
    for router in (users.router, events.router, export.router):
        app.include_router(router)

    @app.middleware("http")
    async def request_context(request: Request, call_next):  # type: ignore[no-untyped-def]
        # a caller's id is kept only if it is a plain token: it is echoed in a header and written to the log
        request_id = request.headers.get("x-request-id") or ""
        if not _REQUEST_ID_RE.match(request_id):
            request_id = uuid.uuid4().hex
        request.state.request_id = request_id
        start = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:  # noqa: BLE001 - answered here so the connection stays usable
            # Starlette re-raises after its own 500 handler, and the server then drops the connection;
            # answering here keeps keep-alive clients working.
            log.exception("internal error rid=%s", request_id, extra={"fields": {"request_id": request_id}})
            response = _internal_error(request_id)
        elapsed = time.perf_counter() - start
        response.headers["X-Request-ID"] = request_id
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        app.state.metrics.observe(request.method, path, response.status_code, elapsed)
        appid = getattr(request.state, "appid", None)
        log.info(
            "%s %s %s %.1fms app=%s rid=%s",
            request.method,
            path,
            response.status_code,
            elapsed * 1000,
            appid or "-",
            request_id,
            extra={
                "fields": {
                    "method": request.method,
                    "route": path,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                    "app": appid,
                    "request_id": request_id,
                }
            },
        )
        return response

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSON:
        return JSON(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSON:
        message = _HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)
        err = ApiError(exc.status_code, message)
        headers = dict(exc.headers or {})
        return JSON(err.body(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSON:
        first = exc.errors()[0] if exc.errors() else {}
        loc = ".".join(str(p) for p in first.get("loc", ()))
        err = ApiError(400, f"{loc}: {first.get('msg', 'invalid request')}", param=loc or None)
        return JSON(err.body(), status_code=400)

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request: Request, exc: StoreUnavailable) -> JSON:
        rid = getattr(request.state, "request_id", "-")
        log.error("store unavailable: %s rid=%s", exc, rid, extra={"fields": {"request_id": rid}})
        err = ApiError(503, "The store is unavailable; try again shortly.", headers={"Retry-After": "5"})
        return JSON(err.body(), status_code=503, headers=err.headers)

    return app


def _internal_error(request_id: str) -> JSON:
    err = ApiError(500, f"Internal error; quote request id {request_id} when reporting it.")
    body = err.body()
    body["error"]["request_id"] = request_id
    return JSON(body, status_code=500, headers={"X-Request-ID": request_id})
