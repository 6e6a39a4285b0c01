"""Errors users see: one shape, `{"success": false, "error": {...}}` (SPEC §10)."""

from __future__ import annotations

import json
from typing import Any

CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
    500: "internal_error",
    503: "store_unavailable",
}


class ApiError(Exception):
    """An error whose message is safe and useful to show to the API user."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        path: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.path = path
        self.code = code or CODES.get(status, "error")
        self.headers = headers or {}

    def __reduce__(self) -> tuple[Any, ...]:
        # picklable with its keyword fields, so an ingest worker process can raise it to the server
        return (_rebuild, (type(self), self.status, self.message, self.param, self.path, self.code, self.headers))

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.path is not None:
            error["path"] = self.path
        return {"success": False, "error": error}


def shown(value: Any) -> str:
    """A value as an error message quotes it: text in quotes, anything else as JSON spells it (true, null,
    2.5, [1, 2]), not as Python would (True, None)."""
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def json_kind(value: Any) -> str:
    """What a decoded JSON value is, as a message names it ("an object", "null"...)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    kinds = {dict: "an object", list: "an array", str: "a string", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def bad_request(message: str, *, param: str | None = None, path: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, path=path)


def unauthorized(ingest: bool = False) -> ApiError:
    """One message for every credential failure of a kind of request, so a caller cannot tell a wrong key
    from a wrong app; it names the credentials that kind of request takes."""
    if ingest:
        return ApiError(
            401,
            "Missing or invalid credentials: send the appid (query parameter or header) and the app's ingest key "
            "as an X-Ingest-Key header or Authorization: Bearer <key>; the data access key (apikey) cannot write.",
        )
    return ApiError(401, "Missing or invalid credentials: send appid and apikey as query parameters or headers.")


def _rebuild(cls: type[ApiError], status: int, message: str, param: Any, path: Any, code: Any, headers: Any) -> ApiError:
    return cls(status, message, param=param, path=path, code=code, headers=headers)


class StoreUnavailable(Exception):
    """The store cannot serve requests right now (read-only, disk full, connection lost)."""
