"""Typed dependencies: the settings, the store, and the authenticated app of a request."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from .. import apps
from ..errors import ApiError, bad_request, unauthorized
from ..settings import Settings
from ..store import Store


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the thread pool,
# and each such hop cost about half a millisecond per request on this 2-core machine.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_secret(request: Request) -> bytes:
    return request.app.state.secret


async def get_store(request: Request) -> Store:
    return request.app.state.store


def _credential(request: Request, name: str) -> str | None:
    value = request.query_params.get(name) or request.headers.get(name)
    if value is None:
        body = getattr(request.state, "json_body", None)
        if isinstance(body, dict) and isinstance(body.get(name), str):
            value = body[name]
    return value


async def _body_within(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it is over `limit` bytes, whether or not it declared its length."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the body is {declared} bytes; the limit is {limit} bytes", param="body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the body is over the limit of {limit} bytes", param="body")
        chunks.append(chunk)
    raw = b"".join(chunks)
    request._body = raw  # what Request.body() returns from now on
    return raw


async def load_json_body(request: Request) -> None:
    """For the POST forms of read endpoints: the parameters as a JSON object body."""
    if request.method != "POST":
        return
    raw = await _body_within(request, request.app.state.settings.max_body_bytes)
    if not raw.strip():
        request.state.json_body = {}
        return
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"the body is not valid JSON ({exc.args[0]}); send a JSON object of parameters", param="body") from None
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object of parameters, like {\"filters\": [...], \"page\": 1}", param="body")
    request.state.json_body = body


async def _verified(request: Request, appid: str | None, key: str | None, kind: str) -> bool:
    """The key check, from the recently-verified cache when it can; the table is read off the event loop."""
    cache: apps.KeyCache = request.app.state.keys
    if cache.known(appid, key, kind):
        return True
    ok = await run_in_threadpool(apps.authenticate, request.app.state.store, appid, key, kind)
    if ok:
        assert appid is not None and key is not None
        cache.remember(appid, key, kind)
    return ok


async def read_app(request: Request, _body: Annotated[None, Depends(load_json_body)]) -> str:
    """The appid of a read request authenticated with its data access key (query parameter or header)."""
    appid = _credential(request, "appid")
    key = _credential(request, "apikey")
    if not await _verified(request, appid, key, "apikey"):
        raise unauthorized()
    assert appid is not None
    request.state.appid = appid
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        limiter.check(appid)  # 429 with Retry-After when the app is over its limits (api/ratelimit.py)
    return appid


async def ingest_app(request: Request) -> str:
    """The appid of a write request authenticated with its ingest key (X-Ingest-Key or Bearer)."""
    appid = _credential(request, "appid")
    key = request.headers.get("x-ingest-key")
    auth = request.headers.get("authorization", "")
    if key is None and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    if not await _verified(request, appid, key, "ingest_key"):
        raise unauthorized(ingest=True)
    assert appid is not None
    request.state.appid = appid
    return appid


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
SecretDep = Annotated[bytes, Depends(get_secret)]
ReadAppDep = Annotated[str, Depends(read_app)]
IngestAppDep = Annotated[str, Depends(ingest_app)]


async def query_params(request: Request) -> dict[str, Any]:
    """Query parameters (last value wins), merged under a JSON body's keys for the POST forms."""
    params: dict[str, Any] = dict(request.query_params)
    body = getattr(request.state, "json_body", None)
    if isinstance(body, dict):
        params.update(body)
    return params


ParamsDep = Annotated[dict[str, Any], Depends(query_params)]
