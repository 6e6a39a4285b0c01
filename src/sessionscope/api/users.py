"""/v2/user and /v2/user/analytics, as GET with query parameters or POST with a JSON body."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from .. import analytics, service
from .analytics import AGGREGATION_HELP, FILTERS_HELP, GROUP_BY_HELP
from .deps import ReadAppDep, SettingsDep, StoreDep, query_params
from .responses import JSON

router = APIRouter(prefix="/v2", tags=["users"])

ParamsDep = Annotated[dict[str, Any], Depends(query_params)]


@router.get("/user", response_class=JSON, summary="List users")
def list_users_get(
    appid: ReadAppDep,
    settings: SettingsDep,
    store: StoreDep,
    params: ParamsDep,
    filters: Annotated[str | None, Query(description=FILTERS_HELP)] = None,
    page: Annotated[str | None, Query(description="Page number, from 1")] = None,
    page_size: Annotated[str | None, Query(description="Rows per page, 1 to 500 (default 50)")] = None,
) -> JSON:
    return JSON(service.list_users(store, settings, appid, params, service.request_now()))


@router.post("/user", response_class=JSON, summary="List users (parameters as a JSON body)")
def list_users_post(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> JSON:
    return JSON(service.list_users(store, settings, appid, params, service.request_now()))


@router.get("/user/analytics", response_class=JSON, summary="Analyze users")
def user_analytics_get(
    appid: ReadAppDep,
    settings: SettingsDep,
    store: StoreDep,
    params: ParamsDep,
    filters: Annotated[str | None, Query(description=FILTERS_HELP)] = None,
    group_by: Annotated[str | None, Query(description=GROUP_BY_HELP)] = None,
    aggregation: Annotated[str | None, Query(description=AGGREGATION_HELP)] = None,
    comparison: Annotated[
        str | None, Query(description="1 or true: add M_pct_change against the previous window")
    ] = None,
    page: Annotated[str | None, Query(description="Page number, from 1")] = None,
    page_size: Annotated[str | None, Query(description="Rows per page, 1 to 500 (default 50)")] = None,
) -> JSON:
    return JSON(analytics.resource_analytics(store, settings, appid, "user", params, service.request_now()))


@router.post("/user/analytics", response_class=JSON, summary="Analyze users (parameters as a JSON body)")
def user_analytics_post(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> JSON:
    return JSON(analytics.resource_analytics(store, settings, appid, "user", params, service.request_now()))
