"""A Python client for the sessionscope read API.

    from sessionscope import Client

    client = Client("http://127.0.0.1:8000", appid="...", apikey="...")
    for session in client.sessions(filters=[{"attribute": "device_platform", "operator": "equal", "value": "ios"}]):
        ...
    df = client.analytics("session", group_by=[{"attribute": "device_model"}]).to_pandas()

Every listing pages automatically (one request per page, as you iterate); errors are raised as `ApiError`
subclasses carrying the error body's fields; `429` and `503` answers are retried after their `Retry-After`
(a bounded number of times), except a request the server stopped at its time limit (code `query_timeout`). It needs only httpx; pandas and polars are imported when a DataFrame is asked for.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "ApiError",
    "BadRequest",
    "Client",
    "Forbidden",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "Rows",
    "ServerError",
    "ServiceUnavailable",
    "Unauthorized",
]


# Longer query strings are sent as a POST body (servers and proxies often cap URLs near 8 KiB).
MAX_QUERY = 4_000

# Answers that say "try again after Retry-After": a rate limit, and a store that is briefly unavailable.
RETRIED = (429, 503)

# The window a list or analytics request has when its filters give no date_range (the API's default).
DEFAULT_DAYS = 30

# Export formats by file extension, so that `export("x.parquet")` writes Parquet.
FORMATS = {".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson", ".csv": "csv", ".parquet": "parquet"}


# -- errors -------------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer: `status`, `code`, `message`, and where they apply `param`, `path`, `request_id`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code or ''}: {message}".replace(" :", ":"))
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.path = path
        self.request_id = request_id
        self.retry_after = retry_after


class BadRequest(ApiError):
    """400: the request is invalid; `param` and `path` say where (`filters`, `[1].operator`)."""


class Unauthorized(ApiError):
    """401: missing or wrong appid/apikey."""


class Forbidden(ApiError):
    """403."""


class NotFound(ApiError):
    """404: no such endpoint or resource."""


class MethodNotAllowed(ApiError):
    """405."""


class PayloadTooLarge(ApiError):
    """413."""


class RateLimited(ApiError):
    """429: over the app's rate limit, still after the client's retries; `retry_after` in seconds."""


class ServerError(ApiError):
    """500: an internal error; quote `request_id` when reporting it."""


class ServiceUnavailable(ApiError):
    """503: the store is unavailable, still after the client's retries; or, with `code` "query_timeout", the
    request ran past the server's time limit for reads (not retried: narrow it)."""


ERRORS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    429: RateLimited,
    500: ServerError,
    503: ServiceUnavailable,
}


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None


def _timed_out(response: httpx.Response) -> bool:
    """A request the server stopped at its time limit for reads: sent again, it would run as long again."""
    if response.status_code != 503:
        return False
    response.read()  # a streamed answer's body (an error's is small)
    return error_from(response).code == "query_timeout"


def error_from(response: httpx.Response) -> ApiError:
    """The typed error for an error answer (its JSON body, or its status line when it has none)."""
    try:
        body = response.json()
        error = body["error"] if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
    except ValueError:
        error = {}
    status = int(error.get("status", response.status_code))
    cls = ERRORS.get(status, ServerError if status >= 500 else ApiError)
    return cls(
        status,
        str(error.get("message") or response.reason_phrase or "error"),
        code=error.get("code"),
        param=error.get("param"),
        path=error.get("path"),
        request_id=error.get("request_id") or response.headers.get("x-request-id"),
        retry_after=_retry_after(response),
    )


# -- rows ---------------------------------------------------------------------------------------------------


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted columns (`property.durationSec`); lists stay values."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _kind(value: Any) -> str:
    """A value's JSON kind, as a typed column holds one: lists by their items' kinds (all one scalar kind, or
    "mixed"), numbers as one kind (a column widens ints to floats without loss)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        items = {_kind(v) for v in value if v is not None}
        if not items:
            return "list:empty"
        (item,) = items if len(items) == 1 else ("mixed",)
        return "list:mixed" if item.startswith(("list", "object")) else f"list:{item}"
    return "object"


def _one_kind(values: list[Any]) -> bool:
    """Whether these values (one column's, or one field's of its objects) are all of one kind, all the way
    down."""
    kinds = {_kind(v) for v in values if v is not None} - {"list:empty"}
    if len(kinds) > 1 or "list:mixed" in kinds:
        return False
    if kinds == {"object"}:
        fields: dict[str, list[Any]] = {}
        for v in values:
            for k, x in (v or {}).items():
                fields.setdefault(k, []).append(x)
        return all(_one_kind(xs) for xs in fields.values())
    return True


def _one_kind_per_column(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose every column holds one kind of value (what a typed DataFrame needs); a column that does
    not (a custom property sent as a list by one session and as text by another, a list of mixed items)
    holds JSON text instead, so no value is lost or altered: `pl.col(c).str.json_decode()` reads it back."""
    columns: dict[str, list[Any]] = {}
    for row in rows:
        for k, v in row.items():
            columns.setdefault(k, []).append(v)
    as_json = {k for k, values in columns.items() if not _one_kind(values)}
    if not as_json:
        return rows
    return [
        {k: (json.dumps(v, ensure_ascii=False) if k in as_json and v is not None else v) for k, v in row.items()}
        for row in rows
    ]


class Rows:
    """The rows of a listing or an analytics request, fetched page by page as they are iterated.

    Iterate it for plain dicts, or call `to_list()`, `to_pandas()` or `to_polars()` (nested objects become
    dotted columns unless `flat=False`).
    """

    def __init__(self, pages: Callable[[], Iterator[list[dict[str, Any]]]]) -> None:
        self._pages = pages

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for page in self._pages():
            yield from page

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """The rows page by page, as the server sent them."""
        return self._pages()

    def to_list(self) -> list[dict[str, Any]]:
        return list(self)

    def to_pandas(self, flat: bool = True) -> Any:
        """A pandas DataFrame (pip install 'sessionscope[pandas]')."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("to_pandas() needs pandas: pip install 'sessionscope[pandas]'") from exc
        rows = [flatten(r) if flat else r for r in self]
        return pd.DataFrame(rows)

    def to_polars(self, flat: bool = True) -> Any:
        """A polars DataFrame (pip install 'sessionscope[polars]')."""
        try:
            import polars as pl
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("to_polars() needs polars: pip install 'sessionscope[polars]'") from exc
        rows = _one_kind_per_column([flatten(r) if flat else r for r in self])
        return pl.DataFrame(rows, infer_schema_length=None)


# -- the client ---------------------------------------------------------------------------------------------


def _is_json(value: Any) -> bool:
    """Whether a parameter goes as JSON text: an object or an array (a list, a tuple...), not a string."""
    return isinstance(value, Mapping) or (isinstance(value, Sequence) and not isinstance(value, str | bytes))


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def pin_window(filters: Sequence[Mapping[str, Any]] | None, now: datetime) -> list[Any] | None:
    """The filters with a window that ends at `now` written out as a `between_dates`, so that every page of
    one iteration reads the same window: the API's default (the last 30 days) when they give no date_range
    or only `not_on` (which leaves out one day of the default), and from 1900 when one is `after D` (which
    runs from D to the request's time). `on`, `before` and `between_dates` fix their window themselves. It
    ends the second before `now`, so that a session the server stamps from `now` on (to the second) is not
    in it."""
    if filters is not None and not _is_json(filters):
        return filters  # type: ignore[return-value]  # not a list: the server names what is wrong
    given = list(filters or [])
    dated = [f for f in given if isinstance(f, Mapping) and f.get("attribute") == "date_range"]
    if any(f.get("operator") not in ("not_on", "after") for f in dated):
        return given
    now = now.astimezone(UTC).replace(microsecond=0)
    since = "1900-01-01T00:00:00Z" if any(f.get("operator") == "after" for f in dated) else _iso(now - timedelta(days=DEFAULT_DAYS))
    window = {"lower": since, "upper": _iso(now - timedelta(seconds=1))}
    return [*given, {"attribute": "date_range", "operator": "between_dates", "value": window}]


class Client:
    """`Client(base_url, appid, apikey)`: the read API, paged, typed and retried.

    `base_url` is the server's address, with or without `/v2` (`http://127.0.0.1:8000`). Credentials travel
    as headers. `max_retries` bounds the retries of a `429` or `503` (each after its `Retry-After`, at most
    `max_retry_wait` seconds); `transport` is passed to httpx (tests, proxies).
    """

    def __init__(
        self,
        base_url: str,
        appid: str,
        apikey: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 5,
        max_retry_wait: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        base = base_url.rstrip("/")
        self.base_url = base if base.endswith("/v2") else f"{base}/v2"
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.retries = 0  # 429 and 503 answers retried so far
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"appid": appid, "apikey": apikey},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing -------------------------------------------------------------------------
    def _retrying(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        """`send()` again after each 429's or 503's Retry-After, up to max_retries times; a wait longer than
        max_retry_wait (an hourly limit's) cannot be waited out, so that answer is the answer at once."""
        attempt = 0
        while True:
            response = send()
            if response.status_code not in RETRIED or attempt >= self.max_retries or _timed_out(response):
                return response
            wait = _retry_after(response)
            wait = 1.0 if wait is None else max(wait, 0.0)
            if wait > self.max_retry_wait:
                return response
            response.close()
            self._sleep(wait)
            attempt += 1
            self.retries += 1

    def _send(self, path: str, body: dict[str, Any]) -> httpx.Response:
        # GET with URL-encoded JSON, as the reference API takes it; long requests go as a POST body instead
        query = {k: json.dumps(v) if _is_json(v) else v for k, v in body.items()}
        long = len(str(httpx.QueryParams(query))) > MAX_QUERY
        return self._retrying(lambda: self._http.post(path, json=body) if long else self._http.get(path, params=query))

    def request(self, path: str, **params: Any) -> dict[str, Any]:
        """One request: the decoded body, or the typed error."""
        body = {k: list(v) if _is_json(v) and not isinstance(v, Mapping) else v for k, v in params.items() if v is not None}
        response = self._send(path, body)
        if response.status_code >= 400:
            raise error_from(response)
        return response.json()

    def _paged(
        self, path: str, params: dict[str, Any], page_size: int, max_rows: int | None, key: str | None = None
    ) -> Rows:
        """Pages of a list, or of analytics rows. `key`: the rows' id field. Lists are newest first, so rows
        stored while they are read push older ones onto later pages: a row whose id was already yielded is
        skipped, and each row comes once. Without a date_range, the default window is pinned when the first
        page is read, so that rows stored meanwhile (a user's new session moving them up) do not reorder it."""
        if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0):
            raise ValueError(f"max_rows must be a whole number >= 0 or None, got {max_rows!r}")
        if max_rows:
            page_size = min(page_size, max_rows)

        def pages() -> Iterator[list[dict[str, Any]]]:
            if max_rows == 0:
                return
            page, seen = 1, 0
            ids: set[Any] = set()
            pinned = {**params, "filters": pin_window(params.get("filters"), datetime.now(UTC))}
            while True:
                body = self.request(path, **pinned, page=page, page_size=page_size)
                data = body.get("data") or []
                if isinstance(data, dict):  # the reference answers {} for no rows
                    data = []
                more = bool(data)
                if key is not None:
                    fresh = [r for r in data if r.get(key) not in ids]
                    ids.update(r.get(key) for r in fresh)
                    data = fresh
                if max_rows is not None and seen + len(data) >= max_rows:
                    yield data[: max_rows - seen]
                    return
                seen += len(data)
                yield data
                pagination = body.get("pagination")
                if not pagination or pagination.get("next") is None or not more:
                    return
                page = pagination["next"]

        return Rows(pages)

    # -- listings -------------------------------------------------------------------------
    def sessions(
        self,
        filters: list[dict[str, Any]] | None = None,
        *,
        with_video: bool = False,
        page_size: int = 500,
        max_rows: int | None = None,
    ) -> Rows:
        """Every matching session (`/v2/session`), newest first."""
        params = {"filters": filters, "with_video": "true" if with_video else None}
        return self._paged("/session", params, page_size, max_rows, "sessionId")

    def users(
        self, filters: list[dict[str, Any]] | None = None, *, page_size: int = 500, max_rows: int | None = None
    ) -> Rows:
        """Every matching user (`/v2/user`), the most recently seen first."""
        return self._paged("/user", {"filters": filters}, page_size, max_rows, "uxcamUserId")

    def events(
        self, filters: list[dict[str, Any]] | None = None, *, page_size: int = 500, max_rows: int | None = None
    ) -> Rows:
        """Every matching event (`/v2/event`), newest first."""
        return self._paged("/event", {"filters": filters}, page_size, max_rows, "eventId")

    def analytics(
        self,
        resource: str = "session",
        *,
        filters: list[dict[str, Any]] | None = None,
        group_by: list[dict[str, Any]] | None = None,
        aggregation: list[dict[str, Any]] | None = None,
        comparison: bool = False,
        page_size: int = 500,
    ) -> Rows:
        """Every row of `/v2/{resource}/analytics` (resource: session, user or event)."""
        if resource not in ("session", "user", "event"):
            raise ValueError(f"resource must be session, user or event, got {resource!r}")
        params = {
            "filters": filters,
            "group_by": group_by,
            "aggregation": aggregation,
            "comparison": "1" if comparison else None,
        }
        return self._paged(f"/{resource}/analytics", params, page_size, None)

    # -- export ---------------------------------------------------------------------------
    def export(
        self,
        path: str | Path,
        resource: str = "session",
        *,
        format: str | None = None,
        filters: Sequence[Mapping[str, Any]] | None = None,
    ) -> Path:
        """Stream `/v2/{resource}/export` into a file (ndjson, csv or parquet; by default the one its
        extension names, else ndjson); returns its path. The file appears whole or not at all: the stream
        goes to `<path>.part`, renamed once complete (an interrupted export raises and leaves nothing)."""
        if resource not in ("session", "user", "event"):
            raise ValueError(f"resource must be session, user or event, got {resource!r}")
        target = Path(path)
        named = FORMATS.get(target.suffix.lower())
        if format is None:
            format = named or "ndjson"
        elif named is not None and format != named:
            raise ValueError(f"format={format!r} but the file {target.name} is named for {named}")
        partial = target.with_name(target.name + ".part")
        body = {"format": format, "filters": None if filters is None else list(filters)}

        def send() -> httpx.Response:
            return self._http.send(self._http.build_request("POST", f"/{resource}/export", json=body), stream=True)

        response = self._retrying(send)
        try:
            if response.status_code >= 400:
                response.read()
                raise error_from(response)
            with partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            response.close()
        return target
