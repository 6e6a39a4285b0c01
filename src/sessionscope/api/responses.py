"""JSON responses (jsonbytes.dumps), and the error responses every route and layer answers with."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import ApiError, StoreUnavailable
from ..jsonbytes import dumps

log = logging.getLogger("sessionscope.http")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def error_response(exc: ApiError) -> JSON:
    return JSON(exc.body(), status_code=exc.status, headers=exc.headers)


def unavailable_response(request: Request, exc: StoreUnavailable) -> JSON:
    """503 with Retry-After; the cause goes to the log, never to the caller."""
    rid = getattr(request.state, "request_id", "-")
    log.error("store unavailable: %s rid=%s", exc, rid, extra={"fields": {"request_id": rid}})
    err = ApiError(503, "The store is unavailable; try again shortly.", headers={"Retry-After": "5"})
    return error_response(err)
