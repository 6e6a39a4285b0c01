"""The read endpoints (lists and analytics of sessions, users and events), as GET with query parameters or
POST with a JSON body, defined once in `READS`.

Each is declared to FastAPI (so /docs and /openapi.json describe it), but answered by `ReadEndpoints`, a
plain ASGI layer in front of FastAPI's router. It runs the same dependencies (`load_json_body`, `read_app`,
`query_params`) and the same answer, with the same error responses; what it skips is FastAPI's routing and
dependency resolution, about 0.2 ms of server CPU a request.

When the store keeps results (store/results.py), it also keeps each encoded answer, under the app, the path,
the query string and body as sent, and the request's second (the only clock the answer reads); a repeated
request is then answered with those bytes, and a committed write of that app (or of no app) discards
them, with every result read for the app (`reading`). An answer not kept is computed on the event loop
when every result it needs is kept: handing it to the thread pool and back cost about 0.2 ms, more than
computing it (about 0.13 ms for a small analytics request). It runs under `cached_only()`, so a read that
would wait for the engine raises `NotCached` instead, and the answer is then computed in the thread pool.
A store whose cache is off (a ClickHouse server) always answers in the pool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import analytics, service
from ..catalog import SESSIONS
from ..errors import ApiError, StoreUnavailable
from ..store.deadline import time_limit
from ..store.results import NotCached, cached_only, reading
from .deps import load_json_body, query_params, read_app
from .params import ANALYTICS, LIST, documented
from .responses import JSON, error_response, unavailable_response

# (app state, appid, parameters, now) -> the response document
Answer = Callable[[State, str, dict[str, Any], datetime], dict[str, Any]]


@dataclass(frozen=True)
class Read:
    path: str  # also the route label of the request's log line and metrics
    summary: str
    tag: str
    params: tuple[str, ...]  # the documented query parameters
    answer: Answer


def _resource_reads(resource: str, plural: str, list_rows: Callable[..., dict[str, Any]]) -> list[Read]:
    return [
        Read(f"/v2/{resource}", f"List {plural}", plural, LIST,
             lambda s, appid, p, now: list_rows(s.store, s.settings, appid, p, now)),
        Read(f"/v2/{resource}/analytics", f"Analyze {plural}", plural, ANALYTICS,
             lambda s, appid, p, now: analytics.resource_analytics(s.store, s.settings, appid, resource, p, now)),
    ]


READS: list[Read] = [
    Read("/v2/session", "List sessions", "sessions", (*LIST, "with_video"),
         lambda s, appid, p, now: service.list_sessions(s.store, s.settings, s.secret, appid, p, now)),
    Read("/v2/session/analytics", "Analyze sessions", "sessions", ANALYTICS,
         lambda s, appid, p, now: analytics.session_analytics(s.store, s.settings, appid, p, now)),
    *_resource_reads("user", "users", service.list_users),
    *_resource_reads("event", "events", service.list_events),
]


# Kept answers are at most this large (a page of 50 full sessions is about 75 KB), so the 256 entries of the
# default result cache hold at most 64 MiB of them.
MAX_KEPT_ANSWER = 256 * 1024


async def answer(read: Read, request: Request) -> Response:
    """The whole request: body (POST), credentials, rate limit, then the answer within the server's time
    limit for reads (store/deadline.py)."""
    try:
        await load_json_body(request)
        appid = await read_app(request, None)
        params = await query_params(request)
        state = request.app.state
        with time_limit(state.settings.query_timeout_seconds):  # the threads it hands reads to inherit it
            return await _answer(read, request, appid, params)
    except ApiError as exc:
        return error_response(exc)
    except StoreUnavailable as exc:
        return unavailable_response(request, exc)


async def _answer(read: Read, request: Request, appid: str, params: Any) -> Response:
    """The answer: on the event loop when the store has kept it, or every result it needs, else in the
    thread pool."""
    state, now = request.app.state, service.request_now()
    cache = state.store.results
    if not cache.enabled:
        return JSON(await run_in_threadpool(read.answer, state, appid, params, now))
    # The encoded answer is kept like a result: it is a function of the app, the parameters as sent, the
    # request's second and the app's stored data, and the app's next write discards it with the rest.
    key = ("answer", read.path, appid, request.scope.get("query_string", b""), getattr(request, "_body", b""), now)

    def encoded() -> bytes:
        return JSON(read.answer(state, appid, params, now)).body

    with reading(appid):  # what it keeps is discarded by this app's writes, not by other apps'
        try:
            if _walks_buckets(params):
                raise NotCached  # its rows are made by walking the window's days: not on the event loop
            with cached_only():
                body = cache.kept(key, encoded, _small, app=appid)
        except NotCached:
            body = await run_in_threadpool(cache.kept, key, encoded, _small, app=appid)
    return Response(body, media_type=JSON.media_type)


# the time buckets any resource groups by (the users' and events' catalogues share the sessions')
_BUCKETS = tuple(a.name for a in SESSIONS.attributes.values() if a.bucket)


def _walks_buckets(params: Any) -> bool:
    """An analytics request grouped by a time bucket: its page is found by walking the window's days (up to
    400,000 for an all-time day series, half a second), too long to hold the event loop for."""
    group_by = repr(params.get("group_by"))
    return any(name in group_by for name in _BUCKETS)


def _small(body: bytes) -> bool:
    return len(body) <= MAX_KEPT_ANSWER


class ReadEndpoints:
    """Answers GET and POST of every `READS` path before FastAPI routes the request; passes the rest on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.reads = {r.path: r for r in READS}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        read = self.reads.get(scope["path"]) if scope["type"] == "http" else None
        if read is None or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        scope["route"] = read
        request = Request(scope, receive)
        response = await answer(read, request)
        await response(scope, receive, send)


def _endpoint(read: Read) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return await answer(read, request)

    return endpoint


def declare(app: FastAPI) -> None:
    """Declare the reads to FastAPI: for the OpenAPI document, and answering the same way should a request
    ever reach the router (with `ReadEndpoints` installed, none does)."""
    router = APIRouter()
    for read in READS:
        name = read.path.removeprefix("/v2/").replace("/", "_")
        endpoint = _endpoint(read)
        router.add_api_route(read.path, endpoint, methods=["GET"], response_class=JSON, summary=read.summary,
                             tags=[read.tag], name=f"{name}_get", openapi_extra=documented(*read.params))
        router.add_api_route(read.path, endpoint, methods=["POST"], response_class=JSON,
                             summary=f"{read.summary} (parameters as a JSON body)", tags=[read.tag],
                             name=f"{name}_post")
    app.include_router(router)
    app.add_middleware(ReadEndpoints)
