"""Liveness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse

from .deps import StoreDep
from .responses import JSON

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_class=JSON, summary="Liveness and store reachability")
def healthz(store: StoreDep) -> JSON:
    store.query("SELECT 1", [])
    return JSON({"success": True, "status": "ok"})


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
def metrics(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4")
