"""The list and analytics routes of a resource (/v2/user, /v2/event), as GET or POST with a JSON body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from .. import analytics, service
from .analytics import AGGREGATION_HELP, FILTERS_HELP, GROUP_BY_HELP
from .deps import ReadAppDep, SettingsDep, StoreDep, query_params
from .responses import JSON

ParamsDep = Annotated[dict[str, Any], Depends(query_params)]
PAGE_HELP = "Page number, from 1"
PAGE_SIZE_HELP = "Rows per page, 1 to 500 (default 50)"
COMPARISON_HELP = "1 or true: add M_pct_change against the previous window"


def resource_router(resource: str, plural: str, list_rows: Callable[..., dict[str, Any]]) -> APIRouter:
    """GET/POST /v2/{resource} (list_rows) and GET/POST /v2/{resource}/analytics."""
    router = APIRouter(prefix="/v2", tags=[plural])

    def list_get(
        appid: ReadAppDep,
        settings: SettingsDep,
        store: StoreDep,
        params: ParamsDep,
        filters: Annotated[str | None, Query(description=FILTERS_HELP)] = None,
        page: Annotated[str | None, Query(description=PAGE_HELP)] = None,
        page_size: Annotated[str | None, Query(description=PAGE_SIZE_HELP)] = None,
    ) -> JSON:
        return JSON(list_rows(store, settings, appid, params, service.request_now()))

    def list_post(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> JSON:
        return JSON(list_rows(store, settings, appid, params, service.request_now()))

    def analytics_get(
        appid: ReadAppDep,
        settings: SettingsDep,
        store: StoreDep,
        params: ParamsDep,
        filters: Annotated[str | None, Query(description=FILTERS_HELP)] = None,
        group_by: Annotated[str | None, Query(description=GROUP_BY_HELP)] = None,
        aggregation: Annotated[str | None, Query(description=AGGREGATION_HELP)] = None,
        comparison: Annotated[str | None, Query(description=COMPARISON_HELP)] = None,
        page: Annotated[str | None, Query(description=PAGE_HELP)] = None,
        page_size: Annotated[str | None, Query(description=PAGE_SIZE_HELP)] = None,
    ) -> JSON:
        return JSON(analytics.resource_analytics(store, settings, appid, resource, params, service.request_now()))

    def analytics_post(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> JSON:
        return JSON(analytics.resource_analytics(store, settings, appid, resource, params, service.request_now()))

    path = f"/{resource}"
    for route, endpoint, method, summary in [
        (path, list_get, "GET", f"List {plural}"),
        (path, list_post, "POST", f"List {plural} (parameters as a JSON body)"),
        (f"{path}/analytics", analytics_get, "GET", f"Analyze {plural}"),
        (f"{path}/analytics", analytics_post, "POST", f"Analyze {plural} (parameters as a JSON body)"),
    ]:
        name = f"{resource}_{endpoint.__name__}"
        router.add_api_route(route, endpoint, methods=[method], response_class=JSON, summary=summary, name=name)
    return router
