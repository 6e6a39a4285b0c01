"""The list and analytics routes of a resource (/v2/user, /v2/event), as GET or POST with a JSON body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

from .. import analytics, service
from .deps import ParamsDep, ReadAppDep, SettingsDep, StoreDep
from .params import ANALYTICS, LIST, documented
from .responses import JSON


def resource_router(resource: str, plural: str, list_rows: Callable[..., dict[str, Any]]) -> APIRouter:
    """GET/POST /v2/{resource} (list_rows) and GET/POST /v2/{resource}/analytics."""
    router = APIRouter(prefix="/v2", tags=[plural])

    def list_get(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> JSON:
        return JSON(list_rows(store, settings, appid, params, service.request_now()))

    def list_post(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> JSON:
        return JSON(list_rows(store, settings, appid, params, service.request_now()))

    def analytics_get(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> JSON:
        return JSON(analytics.resource_analytics(store, settings, appid, resource, params, service.request_now()))

    def analytics_post(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> JSON:
        return JSON(analytics.resource_analytics(store, settings, appid, resource, params, service.request_now()))

    path = f"/{resource}"
    for route, endpoint, method, summary, extra in [
        (path, list_get, "GET", f"List {plural}", documented(*LIST)),
        (path, list_post, "POST", f"List {plural} (parameters as a JSON body)", None),
        (f"{path}/analytics", analytics_get, "GET", f"Analyze {plural}", documented(*ANALYTICS)),
        (f"{path}/analytics", analytics_post, "POST", f"Analyze {plural} (parameters as a JSON body)", None),
    ]:
        name = f"{resource}_{endpoint.__name__}"
        router.add_api_route(
            route, endpoint, methods=[method], response_class=JSON, summary=summary, name=name, openapi_extra=extra
        )
    return router
