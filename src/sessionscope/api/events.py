"""/v2/event and /v2/event/analytics, as GET with query parameters or POST with a JSON body."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from .. import analytics, service
from .analytics import AGGREGATION_HELP, FILTERS_HELP, GROUP_BY_HELP
from .deps import ReadAppDep, SettingsDep, StoreDep, query_params
from .responses import JSON

router = APIRouter(prefix="/v2", tags=["events"])

ParamsDep = Annotated[dict[str, Any], Depends(query_params)]


@router.get("/event", response_class=JSON, summary="List events")
def list_events_get(
    appid: ReadAppDep,
    settings: SettingsDep,
    store: StoreDep,
    params: ParamsDep,
    filters: Annotated[str | None, Query(description=FILTERS_HELP)] = None,
    page: Annotated[str | None, Query(description="Page number, from 1")] = None,
    page_size: Annotated[str | None, Query(description="Rows per page, 1 to 500 (default 50)")] = None,
) -> JSON:
    return JSON(service.list_events(store, settings, appid, params, service.request_now()))


@router.post("/event", response_class=JSON, summary="List events (parameters as a JSON body)")
def list_events_post(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> JSON:
    return JSON(service.list_events(store, settings, appid, params, service.request_now()))


@router.get("/event/analytics", response_class=JSON, summary="Analyze events")
def event_analytics_get(
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
    return JSON(analytics.resource_analytics(store, settings, appid, "event", params, service.request_now()))


@router.post("/event/analytics", response_class=JSON, summary="Analyze events (parameters as a JSON body)")
def event_analytics_post(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> JSON:
    return JSON(analytics.resource_analytics(store, settings, appid, "event", params, service.request_now()))
