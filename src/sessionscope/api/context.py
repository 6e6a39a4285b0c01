"""Per-request context as plain ASGI middleware: request id, access log, metrics, and the last-resort 500.

Plain ASGI rather than Starlette's `BaseHTTPMiddleware`, which runs the app in a separate task and wraps
the response stream; that cost about a millisecond per request here.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ApiError
from .metrics import Metrics
from .responses import JSON

log = logging.getLogger("sessionscope.http")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# A generated request id is 32 hex digits: this process's random half, then a count. Unique without a
# system call per request (uuid4 reads the OS's random source each time, on the event loop).
_ID_PREFIX = secrets.token_hex(8)
_id_count = itertools.count(secrets.randbelow(1 << 32))


def internal_error(request_id: str) -> JSON:
    err = ApiError(500, f"Internal error; quote request id {request_id} when reporting it.")
    body = err.body()
    body["error"]["request_id"] = request_id
    return JSON(body, status_code=500, headers={"X-Request-ID": request_id})


def _request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a plain token (it is echoed and logged), else a new one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _REQUEST_ID_RE.match(given):
                return given
            break
    return f"{_ID_PREFIX}{next(_id_count) & 0xFFFFFFFFFFFFFFFF:016x}"


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        state: dict[str, Any] = scope.setdefault("state", {})  # what request.state reads and writes
        state["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode())
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, id_header]}
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("internal error rid=%s", request_id, extra={"fields": {"request_id": request_id}})
            if started:  # the body was under way: nothing can be answered, the server drops the connection
                raise
            # answered here, so the connection stays usable for keep-alive clients
            status = 500
            await internal_error(request_id)(scope, receive, send)
        finally:
            self._record(scope, state, status, time.perf_counter() - start, request_id)

    def _record(self, scope: Scope, state: dict[str, Any], status: int, elapsed: float, request_id: str) -> None:
        method = scope["method"]
        path = getattr(scope.get("route"), "path", "unmatched")
        self.metrics.observe(method, path, status, elapsed)
        if not log.isEnabledFor(logging.INFO):
            return
        appid = state.get("appid")
        log.info(
            "%s %s %s %.1fms app=%s rid=%s", method, path, status, elapsed * 1000, appid or "-", request_id,
            extra={"fields": {"method": method, "route": path, "status": status,
                              "duration_ms": round(elapsed * 1000, 1), "app": appid, "request_id": request_id}},
        )
