"""Typed dependencies: the settings, the store, and the authenticated app of a request."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request

from .. import apps
from ..errors import bad_request, unauthorized
from ..settings import Settings
from ..store import Store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_secret(request: Request) -> bytes:
    return request.app.state.secret


def get_store(request: Request) -> Store:
    return request.app.state.store


def _credential(request: Request, name: str) -> str | None:
    value = request.query_params.get(name) or request.headers.get(name)
    if value is None:
        body = getattr(request.state, "json_body", None)
        if isinstance(body, dict) and isinstance(body.get(name), str):
            value = body[name]
    return value


async def load_json_body(request: Request) -> None:
    """For the POST forms of read endpoints: the parameters as a JSON object body."""
    if request.method != "POST":
        return
    raw = await request.body()
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


def read_app(request: Request, _body: Annotated[None, Depends(load_json_body)]) -> str:
    """The appid of a read request authenticated with its data access key (query parameter or header)."""
    appid = _credential(request, "appid")
    key = _credential(request, "apikey")
    if not apps.authenticate(request.app.state.store, appid, key, "apikey"):
        raise unauthorized()
    assert appid is not None
    request.state.appid = appid
    return appid


def ingest_app(request: Request) -> str:
    """The appid of a write request authenticated with its ingest key (X-Ingest-Key or Bearer)."""
    appid = _credential(request, "appid")
    key = request.headers.get("x-ingest-key")
    auth = request.headers.get("authorization", "")
    if key is None and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    if not apps.authenticate(request.app.state.store, appid, key, "ingest_key"):
        raise unauthorized()
    assert appid is not None
    request.state.appid = appid
    return appid


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
SecretDep = Annotated[bytes, Depends(get_secret)]
ReadAppDep = Annotated[str, Depends(read_app)]
IngestAppDep = Annotated[str, Depends(ingest_app)]


def query_params(request: Request) -> dict[str, Any]:
    """Query parameters (last value wins), merged under a JSON body's keys for the POST forms."""
    params: dict[str, Any] = dict(request.query_params)
    body = getattr(request.state, "json_body", None)
    if isinstance(body, dict):
        params.update(body)
    return params
