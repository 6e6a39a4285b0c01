"""/v2/session/analytics: aggregates, as GET with query parameters or POST with a JSON body."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from .. import analytics, service
from .deps import ReadAppDep, SettingsDep, StoreDep, query_params
from .responses import JSON

router = APIRouter(prefix="/v2", tags=["sessions"])

ParamsDep = Annotated[dict[str, Any], Depends(query_params)]

FILTERS_HELP = (
    'URL-encoded JSON array: [{"attribute": "device_country", "operator": "equal", "value": "USA"}]'
)
GROUP_BY_HELP = (
    'URL-encoded JSON array, at most two: [{"attribute": "device_model", "max_group_number": 50}]; '
    'custom properties: {"attribute": "user_custom_property", "property_name": "age_group"}'
)
AGGREGATION_HELP = (
    'URL-encoded JSON array: [{"attribute": "session_duration", "operator": "max"}]; operators sum, avg, min, '
    'max, p50, p90, p95, p99; counts take "operator": ""'
)


@router.get("/session/analytics", response_class=JSON, summary="Analyze sessions")
def session_analytics_get(
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
    return JSON(analytics.session_analytics(store, settings, appid, params, service.request_now()))


@router.post(
    "/session/analytics", response_class=JSON, summary="Analyze sessions (parameters as a JSON body)"
)
def session_analytics_post(
    appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep
) -> JSON:
    return JSON(analytics.session_analytics(store, settings, appid, params, service.request_now()))
