"""/v2/{session,user,event}/export: every matching row as NDJSON, CSV or Parquet, streamed (chunked)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import StreamingResponse

from .. import export, service
from .analytics import FILTERS_HELP
from .deps import ReadAppDep, SettingsDep, StoreDep, query_params

router = APIRouter(prefix="/v2", tags=["export"])

ParamsDep = Annotated[dict[str, Any], Depends(query_params)]
FORMAT_HELP = "ndjson (default; each line a list document), csv or parquet"


def _stream(store: Any, settings: Any, appid: str, resource: str, params: dict[str, Any]) -> StreamingResponse:
    # validated before the first byte, so a bad request is an ordinary JSON error
    stream = export.prepare_export(store, settings, appid, resource, params, service.request_now())
    return StreamingResponse(
        stream.chunks(),
        media_type=stream.content_type,
        headers={"Content-Disposition": f'attachment; filename="{stream.filename}"'},
    )


def _route(resource: str) -> None:
    def get(
        appid: ReadAppDep,
        settings: SettingsDep,
        store: StoreDep,
        params: ParamsDep,
        format: Annotated[str | None, Query(description=FORMAT_HELP)] = None,
        filters: Annotated[str | None, Query(description=FILTERS_HELP)] = None,
    ) -> StreamingResponse:
        return _stream(store, settings, appid, resource, params)

    def post(appid: ReadAppDep, settings: SettingsDep, store: StoreDep, params: ParamsDep) -> StreamingResponse:
        return _stream(store, settings, appid, resource, params)

    summary = f"Export {resource}s (NDJSON, CSV or Parquet, streamed)"
    router.add_api_route(f"/{resource}/export", get, methods=["GET"], summary=summary, response_class=StreamingResponse)
    router.add_api_route(
        f"/{resource}/export",
        post,
        methods=["POST"],
        summary=f"{summary}; parameters as a JSON body",
        response_class=StreamingResponse,
    )


for _resource in ("session", "user", "event"):
    _route(_resource)
