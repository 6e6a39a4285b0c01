"""The dashboard pages: the session list (where `dashboard_link` lands), one session (where `url` lands)
and analytics. Thin: read the URL, call the services, hand the results to a template."""

from __future__ import annotations

import functools
import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from .. import analytics, service
from ..api.deps import SecretDep, SettingsDep, StoreDep
from ..catalog import EVENTS, OPERATORS, SESSIONS, Resource, sessions_for
from ..catalog.types import JSON
from ..dashboard_link import BUCKET_PARAM
from ..detail import ALL_TIME, session_detail
from ..errors import ApiError
from ..query.analytics import previous_window
from ..query.metrics import PRIMARY_COUNT
from ..query.spec import Window
from ..query.validate import parse_filters
from ..store.deadline import time_limit
from ..store.results import reading
from . import charts, filters
from . import format as fmt
from .auth import Viewer, login_redirect, viewer
from .render import not_found, page

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
MAX_GROUPS = 500  # analytics rows per request (the API's largest page)
MAX_PAGES = 10  # at most this many pages of rows per chart
GROUP_SIZES = (5, 10, 20, 50)
SERIES_IN_CHART = 6  # lines drawn when a time series is split by a second grouping
_PATH_INDEX = re.compile(r"^\[(\d+)\](.*)$")
# the part of a filter an error's path names -> the editor's control for it (the attribute by default)
_BAD_FIELD = {".operator": "op", ".property_name": "prop", ".value": "val", ".value.lower": "val", ".value.upper": "val2"}


def _public_path(settings: Any, link: str) -> str:
    """A link on public_url as a same-origin path, so the pages work whatever host the browser used."""
    base = settings.public_url.rstrip("/")
    return link[len(base) :] if link.startswith(base + "/") else link


def _form_values(request: Request) -> dict[str, list[str]]:
    return {name: request.query_params.getlist(name) for name in filters.FORM_FIELDS}


def _filter_form(
    active: list[dict[str, Any]], error: ApiError | None, resource: Resource = SESSIONS
) -> dict[str, Any]:
    """What the filter editor needs: the rows, the catalogue, and which row and control an error points at."""
    bad_row, bad_field = None, None
    if error is not None and error.param == "filters" and error.path:
        m = _PATH_INDEX.match(error.path)
        if m:
            bad_row, bad_field = int(m.group(1)), _BAD_FIELD.get(m.group(2), "attr")
    choices = filters.attribute_choices(resource)
    return {
        "rows": [filters.filter_to_row(f) for f in active],
        "empty_row": filters.FilterRow(),
        "choices": choices,
        "choice_by_name": {c.name: c for c in choices},
        "op_labels": filters.OPERATOR_LABELS,
        "op_shapes": {name: op.value for name, op in OPERATORS.items()},
        "value_hints": filters.VALUE_HINTS,
        "catalog_json": filters.catalog_json(resource),
        "bad_row": bad_row,
        "bad_field": bad_field,
        "has_window": any(f.get("attribute") == "date_range" for f in active),
    }


def _reads_of_app(page_view: Callable[..., Response]) -> Callable[..., Response]:
    """A page that reads one app's data: its reads are kept until that app's next write, not any app's
    (store/results.py `reading`). For plain (sync) views, which FastAPI runs in its thread pool."""
    assert not inspect.iscoroutinefunction(page_view), "an async view would run after the scope ended"

    @functools.wraps(page_view)
    def scoped(request: Request, appid: str, **kwargs: Any) -> Response:
        with reading(appid), time_limit(request.app.state.settings.query_timeout_seconds):
            return page_view(request, appid, **kwargs)

    return scoped


def _guard(request: Request, appid: str) -> Viewer | Response:
    """The logged-in viewer of `appid`'s pages, or the response instead: the login page, or a 429 when the
    app is over its rate limits (a page takes one request from the app's budget, as an API read does).
    Checking the login is not a read of the app's data: the time limit for reads does not stop it."""
    with time_limit(0):
        who = viewer(request, appid)
    if who is None:
        return login_redirect(request)
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        try:
            limiter.check(appid)
        except ApiError as exc:
            context = {"appid": appid, "app_name": who.app_name, "message": exc.message}
            response = page(request, "rate_limited.html", context, status_code=exc.status)
            response.headers.update(exc.headers)
            return response
    return who


def _form_redirect(request: Request, list_path: str) -> Response | None:
    """A submitted filter form -> its filters' canonical link form on page 1 (None for a plain page view)."""
    if not filters.is_form_submission(request.query_params):
        return None
    rows = filters.rows_from_form(_form_values(request))
    query = filters.to_query(filters.row_to_filter(r) for r in rows)
    return RedirectResponse(f"{list_path}/1" + (f"?{query}" if query else ""), status_code=303)


def _pagination(list_path: str, number: int, count: int, query: str) -> dict[str, Any]:
    """Page links of a list (the query string, hence the filters, kept as it came)."""
    pages = max(1, math.ceil(count / PAGE_SIZE))
    suffix = f"?{query}" if query else ""

    def href(n: int) -> str:
        return f"{list_path}/{n}{suffix}"

    return {
        "page": number,
        "pages": pages,
        "first_row": (number - 1) * PAGE_SIZE + 1,
        "prev_href": href(min(number - 1, pages)) if number > 1 else None,  # past the end: the last page
        "next_href": href(number + 1) if number < pages else None,
        "first_href": href(1),
        "form_action": f"{list_path}/1",
        "clear_href": f"{list_path}/1",
    }


def _error_title(error: ApiError | None) -> str:
    if error is not None and error.code == "query_timeout":
        return "This page took too long."
    if error is not None and error.param == "page":
        return "This page cannot be shown."
    return "These filters cannot be applied."


# -- the session list -------------------------------------------------------------------------------------


def _list_page(
    request: Request,
    appid: str,
    page_no: str,
    resource: Resource,
    store: Any,
    settings: Any,
    load: Callable[[dict[str, Any], datetime, Resource], list[dict[str, Any]]],
    links: Callable[[int, str], dict[str, Any]],
) -> Response:
    """A list page of a resource (`/app/{appid}/{sessions|events}/list/{page}?filters`): its rows, a page at a
    time, under the number of all matching rows. That number is the resource's primary count from the
    analytics service over the same filters: what the analytics row that linked here shows."""
    who = _guard(request, appid)
    if isinstance(who, Response):
        return who
    if not page_no.isdigit() or int(page_no) < 1:
        return not_found(request, appid, "page", who.app_name)
    number = int(page_no)
    nav = f"{resource.name}s"
    list_path = f"/app/{appid}/{nav}/list"
    if (redirect := _form_redirect(request, list_path)) is not None:
        return redirect
    query = request.url.query
    now = service.request_now()
    active: list[dict[str, Any]] = []
    error: ApiError | None = None
    totals: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    try:
        active = filters.from_query(query)  # a condition it cannot read is a 400 naming it
        if resource.name == SESSIONS.name:  # a user analytics row's link names user conditions too
            resource = sessions_for({str(f.get("attribute")) for f in active} - {BUCKET_PARAM})
        active = filters.read_as(active, resource)
        totals = analytics.run_analytics(store, settings, appid, resource, {"filters": active}, now)["data"][0]
        rows = load({"filters": active, "page": number, "page_size": PAGE_SIZE}, now, resource)
    except ApiError as exc:
        error = exc
    count = int(totals.get(PRIMARY_COUNT[resource.name]) or 0)
    context = {
        "appid": appid,
        "app_name": who.app_name,
        "nav": nav,
        "error": filters.form_message(error, active, resource) if error else None,
        "error_title": _error_title(error),
        "totals": totals,
        "count": count,
        nav: rows,
        **_pagination(list_path, number, count, query),
        **links(number, f"?{query}" if query else ""),
        **_filter_form(active, error, resource),
    }
    return page(request, f"{nav}.html", context, status_code=error.status if error else 200)


@router.get("/app/{appid}/sessions/list/{page_no}")
@_reads_of_app
def session_list(
    request: Request, appid: str, page_no: str, store: StoreDep, settings: SettingsDep, secret: SecretDep
) -> Response:
    def load(params: dict[str, Any], now: datetime, resource: Resource) -> list[dict[str, Any]]:
        params = {**params, "with_video": "true"}
        return service.list_sessions(store, settings, secret, appid, params, now, resource)["data"]

    def links(number: int, suffix: str) -> dict[str, Any]:
        return {
            "detail_href": lambda sid: f"/app/{appid}/sessions/list/{number}/{sid}{suffix}",
            "analytics_href": f"/app/{appid}/analytics{suffix}",
        }

    return _list_page(request, appid, page_no, SESSIONS, store, settings, load, links)


# -- one session ------------------------------------------------------------------------------------------


@router.get("/app/{appid}/sessions/list/{page_no}/{session_id}")
@_reads_of_app
def session_page(
    request: Request,
    appid: str,
    page_no: str,
    session_id: str,
    store: StoreDep,
    settings: SettingsDep,
    secret: SecretDep,
) -> Response:
    who = _guard(request, appid)
    if isinstance(who, Response):
        return who
    found = session_detail(store, settings, secret, appid, session_id, service.request_now())
    if found is None:
        return not_found(request, appid, "session", who.app_name)
    came_from = request.query_params.get("from", "")
    if re.fullmatch(rf"/app/{re.escape(appid)}/events/list/\d+(\?\S*)?", came_from):
        nav, back = "events", came_from  # opened from a page of events: back to it
    else:  # the query string is the session list's filters: back to that page of it
        query = "&".join(p for p in request.url.query.split("&") if not p.startswith("from="))
        nav, back = "sessions", f"/app/{appid}/sessions/list/{page_no if page_no.isdigit() else 1}" + (
            f"?{query}" if query else ""
        )
    doc = found.doc
    context = {
        "appid": appid,
        "app_name": who.app_name,
        "nav": nav,
        "s": doc,
        "screens": found.screens,
        "events": found.events,
        "video_src": _public_path(settings, found.video_url) if found.video_url else None,
        "back_href": back,
        "custom": {
            k: v for k, v in doc["user"].items() if k not in ("alias", "uxcamuserid", "kUXCam_UserIdentity")
        },
        "duration": doc["property"].get("durationSec"),
    }
    return page(request, "session.html", context)


# -- events (where event analytics links land) and users ------------------------------------------------


@router.get("/app/{appid}/events/list/{page_no}")
@_reads_of_app
def event_list(
    request: Request, appid: str, page_no: str, store: StoreDep, settings: SettingsDep
) -> Response:
    names: dict[str, str] = {}  # the page's users' aliases, filled by `load`

    def load(params: dict[str, Any], now: datetime, resource: Resource) -> list[dict[str, Any]]:
        events = service.list_events(store, settings, appid, params, now)["data"]
        names.update(_user_names(store, settings, appid, events, params["filters"], now))
        return events

    def links(number: int, suffix: str) -> dict[str, Any]:
        back = quote(f"/app/{appid}/events/list/{number}{suffix}", safe="")
        return {"session_href": lambda url: f"{_public_path(settings, url)}?from={back}", "user_names": names}

    return _list_page(request, appid, page_no, EVENTS, store, settings, load, links)


def _user_names(
    store: Any, settings: Any, appid: str, events: list[dict[str, Any]], active: list[dict[str, Any]], now: datetime
) -> dict[str, str]:
    """uxcamuserid -> alias of the users of a page of events (an event's userProperty has no alias), from
    GET /v2/user over the page's window, as the session list names them."""
    ids = sorted({str(e["userProperty"]["uxcamuserid"]) for e in events})
    if not ids:
        return {}
    window = [f for f in active if f.get("attribute") == "date_range"]
    users = service.list_users(
        store, settings, appid,
        {"filters": [*window, {"attribute": "uxcamuserid", "operator": "in", "value": ids}], "page_size": len(ids)},
        now,
    )["data"]
    return {u["uxcamUserId"]: u["property"]["alias"] for u in users if u["property"].get("alias")}


@router.get("/app/{appid}/users/list/{page_no}/{uxcamuserid:path}")  # an id may hold an encoded '/'
def user_page(request: Request, appid: str, page_no: str, uxcamuserid: str) -> Response:
    """A user's `url` (GET /v2/user): that user's sessions, all of them."""
    who = _guard(request, appid)
    if isinstance(who, Response):
        return who
    query = filters.to_query(
        [ALL_TIME, {"attribute": "uxcamuserid", "operator": "equal", "value": uxcamuserid}]
    )
    return RedirectResponse(f"/app/{appid}/sessions/list/1?{query}", status_code=303)


# -- analytics --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grouping:
    attribute: str
    property_name: str | None
    max_groups: int

    @property
    def request(self) -> dict[str, Any]:
        g: dict[str, Any] = {"attribute": self.attribute, "max_group_number": self.max_groups}
        if self.property_name:
            g["property_name"] = self.property_name
        return g

    @property
    def key(self) -> str:
        return f"{self.attribute}_{self.property_name}" if self.property_name else self.attribute

    @property
    def bucket(self) -> str | None:
        attr = SESSIONS.attribute(self.attribute)
        return attr.bucket if attr is not None else None

    @property
    def title(self) -> str:
        name = filters.attribute_label(SESSIONS, self.attribute)
        return f"{name}: {self.property_name}" if self.property_name else name


def _group_choices() -> list[tuple[str, str, bool, bool]]:
    """(attribute, label, needs property_name, is a time bucket) for every groupable attribute."""
    out = [
        (a.name, filters.attribute_label(SESSIONS, a.name), a.type == JSON, a.bucket is not None)
        for a in SESSIONS.attributes.values()
        if a.groupable
    ]
    return sorted(out, key=lambda c: (not c[3], c[1].lower()))


def _label(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return "(none)"
    if value == analytics.OTHERS:
        return "Others"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _all_rows(
    store: Any, settings: Any, appid: str, params: dict[str, Any], now: Any
) -> list[dict[str, Any]]:
    """Every row of a grouped analytics request (up to MAX_PAGES pages)."""
    rows: list[dict[str, Any]] = []
    for number in range(1, MAX_PAGES + 1):
        body = analytics.session_analytics(store, settings, appid, {**params, "page": number}, now)
        rows.extend(body["data"])
        if not body.get("pagination", {}).get("next"):
            break
    return rows


def _bad_grouping(error: ApiError | None) -> str | None:
    """The breakdown control a `group_by` error points at: g1, g2, their property names g1p, g2p, or n."""
    m = _PATH_INDEX.match(error.path or "") if error is not None and error.param == "group_by" else None
    if m is None:
        return None
    if m.group(2) == ".max_group_number":
        return "n"
    return f"g{min(int(m.group(1)), 1) + 1}" + ("p" if m.group(2) == ".property_name" else "")


def _groupings(params: Any, max_groups: int) -> list[Grouping]:
    out = []
    for i in ("1", "2"):
        attribute = (params.get(f"g{i}") or "").strip()
        if attribute:
            out.append(Grouping(attribute, (params.get(f"g{i}p") or "").strip() or None, max_groups))
    return out


@router.get("/app/{appid}/analytics")
@_reads_of_app
def analytics_page(request: Request, appid: str, store: StoreDep, settings: SettingsDep) -> Response:
    who = _guard(request, appid)
    if isinstance(who, Response):
        return who
    params = request.query_params
    extras = {k: params.get(k, "") for k in ("g1", "g1p", "g2", "g2p", "n", "cmp", "metric")}
    if filters.is_form_submission(params):  # the filters in link form, then the breakdown's own fields
        rows = filters.rows_from_form(_form_values(request))
        parts = [
            filters.to_query(filters.row_to_filter(r) for r in rows),
            urlencode({k: v for k, v in extras.items() if v}),
        ]
        query = "&".join(p for p in parts if p)
        return RedirectResponse(f"/app/{appid}/analytics" + (f"?{query}" if query else ""), status_code=303)

    query = request.url.query
    n = int(extras["n"]) if extras["n"].isdigit() and 1 <= int(extras["n"]) <= 1000 else 10
    comparison = extras["cmp"] in ("1", "true")
    groupings = _groupings(params, n)
    now = service.request_now()
    link = lambda row: _public_path(settings, row["dashboard_link"])  # noqa: E731

    active: list[dict[str, Any]] = []
    compared: str | None = None  # the previous period, when comparing
    error: ApiError | None = None
    totals: dict[str, Any] = {}
    sections: list[dict[str, Any]] = []
    combined: dict[str, Any] | None = None
    try:
        active = filters.read_as(filters.from_query(query), SESSIONS)  # a condition it cannot read: a 400 naming it
        base: dict[str, Any] = {"filters": active, "comparison": comparison, "page_size": MAX_GROUPS}
        totals = analytics.session_analytics(
            store, settings, appid, {"filters": active, "comparison": comparison}, now
        )["data"][0]
        metrics = [k for k in totals if k != "dashboard_link" and not k.endswith("_pct_change")]
        window = parse_filters(SESSIONS, {"filters": active}, now)[0]  # the window the figures cover
        if comparison:
            before = previous_window(window)
            span = f"{before.lo:%Y-%m-%d %H:%M} to {before.hi:%Y-%m-%d %H:%M} UTC"
            compared = f"Changes against the period just before, of the same length: {span}."
        metric = extras["metric"] if extras["metric"] in metrics else "session_count"
        for g in groupings:
            rows = _all_rows(store, settings, appid, {**base, "group_by": [g.request]}, now)
            section: dict[str, Any] = {"grouping": g, "rows": rows}
            if g.bucket:
                section["partial"] = partial_buckets(window, g.bucket)
                points = [(r.get(metric), link(r)) for r in rows]
                section["line"] = charts.line_chart(
                    [_label(r, g.key) for r in rows],
                    [(fmt.metric_label(metric), points)],
                    lambda v: fmt.metric(metric, v),
                )
            else:
                section["bars"] = charts.bar_chart(
                    rows, lambda r, k=g.key: _label(r, k), metric, fmt.metric, link
                )
            sections.append(section)
        if len(groupings) == 2:
            combined = _combined(store, settings, appid, base, groupings, metric, link, now)
    except ApiError as exc:
        error = exc
        metrics, metric = [], "session_count"

    context = {
        "appid": appid,
        "app_name": who.app_name,
        "nav": "analytics",
        "error": filters.form_message(error, active, SESSIONS) if error else None,
        "bad_grouping": _bad_grouping(error),
        "totals": totals,
        "metrics": metrics,
        "metric": metric,
        "comparison": comparison,
        "compared": compared,
        "groupings": groupings,
        "sections": sections,
        "combined": combined,
        "group_choices": _group_choices(),
        "group_sizes": GROUP_SIZES if n in GROUP_SIZES else (*GROUP_SIZES, n),
        "n": n,
        "extras": extras,
        "label": _label,
        "sessions_href": lambda row: link(row),
        "totals_href": link(totals) if totals else None,
        "form_action": f"/app/{appid}/analytics",
        "clear_href": f"/app/{appid}/analytics",
        "list_href": f"/app/{appid}/sessions/list/1" + (f"?{filters.to_query(active)}" if active else ""),
        **_filter_form(active, error),
    }
    return page(request, "analytics.html", context, status_code=error.status if error else 200)


def _combined(
    store: Any,
    settings: Any,
    appid: str,
    base: dict[str, Any],
    groupings: list[Grouping],
    metric: str,
    link: Any,
    now: Any,
) -> dict[str, Any]:
    """Both groupings at once: a table, plus one line per value when exactly one of them is a time bucket."""
    rows = _all_rows(store, settings, appid, {**base, "group_by": [g.request for g in groupings]}, now)
    out: dict[str, Any] = {"rows": rows, "groupings": groupings}
    time_level = [g for g in groupings if g.bucket]
    other_level = [g for g in groupings if not g.bucket]
    if len(time_level) == 1 and len(other_level) == 1:
        t, o = time_level[0], other_level[0]
        buckets: list[str] = []
        by_value: dict[str, dict[str, tuple[Any, str]]] = {}
        totals: dict[str, float] = {}
        for r in rows:
            b, v = _label(r, t.key), _label(r, o.key)
            if b not in buckets:
                buckets.append(b)
            by_value.setdefault(v, {})[b] = (r.get(metric), link(r))
            totals[v] = totals.get(v, 0) + (r.get("session_count") or 0)
        top = sorted(by_value, key=lambda v: (-totals[v], v))[:SERIES_IN_CHART]
        series = [(v, [by_value[v].get(b, (None, "")) for b in buckets]) for v in top]
        out["line"] = charts.line_chart(buckets, series, lambda x: fmt.metric(metric, x))
        out["series_note"] = len(by_value) > SERIES_IN_CHART
    return out


def _bucket_start(t: datetime, bucket: str) -> datetime:
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "week":
        return day - timedelta(days=day.weekday())  # weeks run Monday to Sunday
    if bucket == "month":
        return day.replace(day=1)
    return day


def _next_bucket(start: datetime, bucket: str) -> datetime:
    if bucket == "week":
        return start + timedelta(days=7)
    if bucket == "month":
        return (start + timedelta(days=32)).replace(day=1)
    return start + timedelta(days=1)


def partial_buckets(window: Window, bucket: str) -> str | None:
    """A note when the window cuts its first or last bucket short (the last 30 days start and end mid-day),
    so that a short first or last point does not read as a drop; None when both are whole."""
    first_cut = window.lo != _bucket_start(window.lo, bucket)
    last_cut = window.hi + timedelta(seconds=1) != _next_bucket(_bucket_start(window.hi, bucket), bucket)
    if not (first_cut or last_cut):
        return None
    which = "first and last" if first_cut and last_cut else "first" if first_cut else "last"
    span = f"{window.lo:%Y-%m-%d %H:%M} to {window.hi:%Y-%m-%d %H:%M} UTC"
    one = "bucket holds" if which != "first and last" else "buckets hold"
    return f"The window runs from {span}: its {which} {one} only part of a {bucket}."
