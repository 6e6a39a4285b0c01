"""/v2/session: the list, as GET with query parameters or POST with a JSON body."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from .. import service
from .deps import ReadAppDep, SecretDep, SettingsDep, StoreDep, query_params
from .responses import JSON

router = APIRouter(prefix="/v2", tags=["sessions"])

ParamsDep = Annotated[dict[str, Any], Depends(query_params)]

FILTERS_HELP = 'URL-encoded JSON array: [{"attribute": "device_country", "operator": "equal", "value": "USA"}]'


@router.get("/session", response_class=JSON, summary="List sessions")
def list_sessions_get(
    appid: ReadAppDep,
    settings: SettingsDep,
    store: StoreDep,
    secret: SecretDep,
    params: ParamsDep,
    filters: Annotated[str | None, Query(description=FILTERS_HELP)] = None,
    page: Annotated[str | None, Query(description="Page number, from 1")] = None,
    page_size: Annotated[str | None, Query(description="Rows per page, 1 to 500 (default 50)")] = None,
    with_video: Annotated[str | None, Query(description="true or 1: include a signed video link")] = None,
) -> JSON:
    return JSON(service.list_sessions(store, settings, secret, appid, params, service.request_now()))


@router.post("/session", response_class=JSON, summary="List sessions (parameters as a JSON body)")
def list_sessions_post(
    appid: ReadAppDep, settings: SettingsDep, store: StoreDep, secret: SecretDep, params: ParamsDep
) -> JSON:
    return JSON(service.list_sessions(store, settings, secret, appid, params, service.request_now()))
