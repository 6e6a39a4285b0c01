"""/v2/session: the list, as GET with query parameters or POST with a JSON body."""

from __future__ import annotations

from fastapi import APIRouter

from .. import service
from .deps import ParamsDep, ReadAppDep, SecretDep, SettingsDep, StoreDep
from .params import LIST, documented
from .responses import JSON

router = APIRouter(prefix="/v2", tags=["sessions"])


@router.get("/session", response_class=JSON, summary="List sessions", openapi_extra=documented(*LIST, "with_video"))
def list_sessions_get(
    appid: ReadAppDep, settings: SettingsDep, store: StoreDep, secret: SecretDep, params: ParamsDep
) -> JSON:
    return JSON(service.list_sessions(store, settings, secret, appid, params, service.request_now()))


@router.post("/session", response_class=JSON, summary="List sessions (parameters as a JSON body)")
def list_sessions_post(
    appid: ReadAppDep, settings: SettingsDep, store: StoreDep, secret: SecretDep, params: ParamsDep
) -> JSON:
    return JSON(service.list_sessions(store, settings, secret, appid, params, service.request_now()))
