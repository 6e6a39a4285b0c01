"""The ASGI application: routers, error handlers (every error in the SPEC §10 shape), request ids."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from .. import __version__, web
from ..apps import KeyCache
from ..errors import ApiError, StoreUnavailable
from ..ingest.pool import ValidationPool
from ..ingest.writer import GroupWriter
from ..settings import Settings
from ..store import Store, open_store
from ..web.render import not_found
from . import docs, export, health, ingest, reads, video
from .context import RequestContext
from .metrics import Metrics
from .ratelimit import RateLimiter
from .responses import JSON, error_response, unavailable_response

_HTTP_MESSAGES = {
    404: "Not found: no such resource. Endpoints are under /v2 (see /docs).",
    405: "Method not allowed for this path.",
}


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_APP_PATH = re.compile(r"^/app/[0-9a-f]{24}/")


def _browser_page(request: Request) -> bool:
    """A page asked for by a browser (it accepts HTML), outside the API's /v2: its 404 is a page too."""
    return (
        request.method in ("GET", "HEAD")
        and "text/html" in request.headers.get("accept", "")
        and not (request.url.path + "/").startswith("/v2/")
    )


def _methods_of_path(request: Request) -> list[str]:
    """The methods some route takes at this request's path (asked of each route, included routers too)."""
    routes = request.app.router.routes
    return [
        m for m in _METHODS if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)
    ]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # on shutdown, after the last request: stop the validation workers and remove their hand-off directory,
    # then commit what is queued (both start again if the app is used after this)
    app.state.validator.close()
    app.state.writer.close()
    # the last step of a clean stop (SIGTERM, Ctrl-C): uvicorn re-raises SIGTERM after this, so nothing
    # later would fold the WAL into the store file
    app.state.store.checkpoint()


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
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
    app.state.writer = GroupWriter(app.state.store, nice=settings.ingest_nice)
    app.state.validator = ValidationPool(settings.ingest_workers, nice=settings.ingest_nice)
    app.state.keys = KeyCache(settings.auth_cache_seconds)
    app.state.secret = settings.resolved_secret()
    app.state.metrics = Metrics()
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_per_hour)

    reads.declare(app)  # the lists and analytics: their routes, and the layer that answers them first
    for router in (ingest.router, video.router, health.router, web.router, export.router):
        app.include_router(router)

    app.add_middleware(RequestContext, metrics=app.state.metrics)  # outermost: it also wraps the reads

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSON:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and _browser_page(request):  # a person at a browser, off the API's paths
            if request.url.path == "/":
                return RedirectResponse("/login", status_code=303)
            return not_found(request, _APP_PATH.match(request.url.path) and request.url.path.split("/")[2], "page")
        message = _HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # every method some route of this path takes (the router names the first such route's alone)
            allowed = _methods_of_path(request)
            headers["Allow"] = ", ".join(allowed)
            message = f"Method {request.method} is not allowed for {request.url.path}; allowed: {', '.join(allowed)}"
        err = ApiError(exc.status_code, message)
        return JSON(err.body(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSON:
        first = exc.errors()[0] if exc.errors() else {}
        loc = ".".join(str(p) for p in first.get("loc", ()))
        err = ApiError(400, f"{loc}: {first.get('msg', 'invalid request')}", param=loc or None)
        return JSON(err.body(), status_code=400)

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request: Request, exc: StoreUnavailable) -> JSON:
        return unavailable_response(request, exc)

    return app
