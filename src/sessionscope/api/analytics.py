"""/v2/session/analytics: aggregates, as GET with query parameters or POST with a JSON body."""

from __future__ import annotations

from fastapi import APIRouter

from .. import analytics, service
from .deps import ParamsDep, ReadAppDep, SettingsDep, StoreDep
from .params import ANALYTICS, documented
from .responses import JSON

router = APIRouter(prefix="/v2", tags=["sessions"])


@router.get("/session/analytics", response_class=JSON, summary="Analyze sessions", openapi_extra=documented(*ANALYTICS))
def session_analytics_get(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> JSON:
    return JSON(analytics.session_analytics(store, settings, appid, params, service.request_now()))


@router.post(
    "/session/analytics", response_class=JSON, summary="Analyze sessions (parameters as a JSON body)"
)
def session_analytics_post(
    appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep
) -> JSON:
    return JSON(analytics.session_analytics(store, settings, appid, params, service.request_now()))
