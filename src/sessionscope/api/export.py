"""/v2/{session,user,event}/export: every matching row as NDJSON, CSV or Parquet, streamed (chunked)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import StreamingResponse

from .. import export, service
from .deps import ParamsDep, ReadAppDep, SettingsDep, StoreDep
from .params import documented

router = APIRouter(prefix="/v2", tags=["export"])


def _stream(store: Any, settings: Any, appid: str, resource: str, params: dict[str, Any]) -> StreamingResponse:
    # validated before the first byte, so a bad request is an ordinary JSON error
    stream = export.prepare_export(store, settings, appid, resource, params, service.request_now())
    return StreamingResponse(
        stream.chunks(),
        media_type=stream.content_type,
        headers={"Content-Disposition": f'attachment; filename="{stream.filename}"'},
    )


def _route(resource: str) -> None:
    def get(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> StreamingResponse:
        return _stream(store, settings, appid, resource, params)

    def post(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> StreamingResponse:
        return _stream(store, settings, appid, resource, params)

    summary = f"Export {resource}s (NDJSON, CSV or Parquet, streamed)"
    router.add_api_route(
        f"/{resource}/export", get, methods=["GET"], summary=summary, response_class=StreamingResponse,
        openapi_extra=documented("format", "filters"),
    )
    router.add_api_route(
        f"/{resource}/export",
        post,
        methods=["POST"],
        summary=f"{summary}; parameters as a JSON body",
        response_class=StreamingResponse,
    )


for _resource in ("session", "user", "event"):
    _route(_resource)
