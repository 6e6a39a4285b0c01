"""Analytics orchestration: validate -> plan -> render -> execute -> shape.

SQL does the aggregation (one query, plus one over the previous window for `comparison`); Python only
shapes the grouped rows: time-bucket filling, ordering, pagination, percentage changes and links.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from itertools import product
from typing import Any

from .catalog import RESOURCES, SESSIONS, Resource
from .dashboard_link import LinkGroup, bucket_days, build_dashboard_link
from .query.analytics import (
    AnalyticsPlan,
    AnalyticsSpec,
    GroupBy,
    Metric,
    parse_analytics,
    plan_analytics,
    plan_previous,
)
from .query.render_analytics import render_analytics
from .query.spec import Window
from .settings import Settings
from .store import Store

OTHERS = "others"

# A group key: per level, (value, is_others). Time buckets carry the bucket's first instant.
Key = tuple[tuple[Any, bool], ...]


def session_analytics(
    store: Store, settings: Settings, appid: str, params: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """GET /v2/session/analytics."""
    return run_analytics(store, settings, appid, SESSIONS, params, now)


def resource_analytics(
    store: Store, settings: Settings, appid: str, resource: str, params: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """GET /v2/{resource}/analytics for session, user and event."""
    return run_analytics(store, settings, appid, RESOURCES[resource], params, now)


def run_analytics(
    store: Store, settings: Settings, appid: str, resource: Resource, params: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    spec = parse_analytics(resource, params, now)
    plan = plan_analytics(appid, spec)
    groups = execute(store, plan)
    kept = kept_values(spec.group_by, groups)

    previous: dict[Key, list[Any]] = {}
    if spec.comparison:
        previous = execute(
            store,
            plan_previous(plan, tuple(None if g.bucket else kept[i] for i, g in enumerate(spec.group_by))),
        )

    start = (spec.page - 1) * spec.page_size
    page, has_next = ordered_page(spec, groups, start, spec.page_size)
    data = [shape_row(spec, settings, appid, key, values, kept, previous) for key, values in page]
    body: dict[str, Any] = {"success": True, "data": data}
    if spec.comparison and not spec.group_by:
        return body  # as the reference: a comparison of totals carries no pagination
    body["pagination"] = {
        "current": spec.page,
        "next": spec.page + 1 if has_next else None,
        "total": len(data),
    }
    return body


def execute(store: Store, plan: AnalyticsPlan) -> dict[Key, list[Any]]:
    """Run the plan's one query: group key -> metric values in plan order."""
    sql, values = render_analytics(store.dialect, plan)
    n = len(plan.group_by)
    out: dict[Key, list[Any]] = {}
    for row in store.query(sql, values):
        key = tuple((row[2 * i], bool(row[2 * i + 1])) for i in range(n))
        # settled here, so that rows are ordered (and changes computed) by the values they show: ordered by the
        # unsettled ones, 39.99999999999998 came after an equal 40.0 of a later group value
        out[key] = [_settled(m, v) for m, v in zip(plan.metrics, row[2 * n :], strict=True)]
    return out


def kept_values(group_by: tuple[GroupBy, ...], groups: dict[Key, list[Any]]) -> list[tuple[Any, ...]]:
    """Per level, the values it kept (every value not folded into "others"), sorted (a missing value last), so
    that links list them in the same order whatever order the engine returned the groups in."""
    kept: list[dict[Any, None]] = [{} for _ in group_by]
    for key in groups:
        for i, (value, other) in enumerate(key):
            if not other:
                kept[i].setdefault(value, None)
    return [tuple(sorted(k, key=lambda v: (v is None, "" if v is None else v))) for k in kept]


# -- time buckets -------------------------------------------------------------------------------------------


def bucket_start(unit: str, day: date) -> datetime:
    if unit == "week":
        day = day - timedelta(days=day.weekday())
    elif unit == "month":
        day = day.replace(day=1)
    return datetime(day.year, day.month, day.day)


def window_days(window: Window) -> Iterator[date]:
    """Days the window touches, minus days it excludes entirely."""
    day, last, one = window.lo.date(), window.hi.date(), timedelta(days=1)
    if not window.excluded:
        while day <= last:
            yield day
            day += one
        return
    # the days some excluded span covers entirely (within the window), found span by span: a walk over the
    # window's days that tested every span on every day took minutes for a wide window and many not_on
    skipped: set[date] = set()
    for lo, hi in window.excluded:
        d, end_day = max(lo, window.lo).date(), min(hi, window.hi).date()
        while d <= end_day:
            start = datetime(d.year, d.month, d.day)
            if lo <= max(start, window.lo) and min(start + one - timedelta(seconds=1), window.hi) <= hi:
                skipped.add(d)
            d += one
    while day <= last:
        if day not in skipped:
            yield day
        day += one


def ordered_page(
    spec: AnalyticsSpec, groups: dict[Key, list[Any]], start: int, size: int
) -> tuple[list[tuple[Key, list[Any]]], bool]:
    """Rows `start` to `start + size` of the ordered groups, and whether any row follows them.

    With a time bucket, every series has every bucket of the window: the window's empty buckets are rows
    too (zero counts, null otherwise), for every observed value of the other level. Rows are ordered by
    their buckets first, so the ordered list is one run of rows per bucket, each as long as the product of
    the other level's values: the window's buckets are walked up to the page, not held, and rows are made
    for the runs the page takes only. Made all at once, a day series over the widest window by 1,000 values
    of another level was hundreds of millions of rows for a page of a few."""
    levels = spec.group_by
    if not any(g.bucket for g in levels):
        ordered = order(spec, groups)
        return [(key, groups[key]) for key in ordered[start : start + size]], len(ordered) > start + size
    observed: list[dict[tuple[Any, bool], None]] = [{} for _ in levels]
    runs: dict[tuple[Any, ...], list[Key]] = {}  # a bucket combination -> its groups that have rows
    for key in groups:
        runs.setdefault(_buckets_of(levels, key), []).append(key)
        for i, part in enumerate(key):
            if not levels[i].bucket:
                observed[i].setdefault(part, None)
    rest = list(product(*(list(observed[i]) for i, g in enumerate(levels) if not g.bucket)))
    if not rest:  # a level with no value: no series at all
        return [], False
    empty = [0 if m.is_count else None for m in spec.metrics]
    page: list[tuple[Key, list[Any]]] = []
    at = 0  # the position of the current run's first row
    for combo, filled in _runs(spec, runs):
        run_keys: list[Key] = list(runs.get(combo, ()))
        length = len(rest) if filled else len(run_keys)
        if len(page) == size:
            return page, length > 0
        if at + length > start:
            run = {key: groups[key] for key in run_keys}
            for values in rest if filled else ():
                parts, others = iter(combo), iter(values)
                key = tuple((next(parts), False) if g.bucket else next(others) for g in levels)
                if key not in run:
                    run[key] = list(empty)
            skip = max(start - at, 0)
            taken = order(spec, run)[skip : skip + size - len(page)]
            page.extend((key, run[key]) for key in taken)
            if len(page) == size and skip + len(taken) < length:
                return page, True
        at += length
    return page, False


def series_days(units: list[str], window: Window) -> Iterator[date]:
    """Days on which the combination of the window's bucket starts may change, in order: every day the window
    keeps; or, with one week or month level and no day excluded, the first day of each of its buckets in the
    window (a month series of an all-time window: 13,200 steps, not 400,000)."""
    if len(units) != 1 or units[0] == "day" or window.excluded:
        yield from window_days(window)
        return
    day, last = window.lo.date(), window.hi.date()
    while day <= last:
        yield day
        start = bucket_start(units[0], day).date()
        if units[0] == "week":
            day = start + timedelta(days=7)
        else:
            day = date(start.year + start.month // 12, start.month % 12 + 1, 1)


def _runs(spec: AnalyticsSpec, runs: dict[tuple[Any, ...], list[Key]]) -> Iterator[tuple[tuple[Any, ...], bool]]:
    """(bucket combination, whether it is one of the window's) in order: the window's combinations,
    chronologically, merged with any combination that has groups outside them (none, as the query keeps the
    window; they would keep their place, with no empty rows)."""
    pending = sorted(runs)
    j = 0
    last = None
    for day in series_days([g.bucket for g in spec.group_by if g.bucket], spec.window):
        combo = tuple(bucket_start(g.bucket, day) for g in spec.group_by if g.bucket)
        if combo == last:
            continue
        last = combo
        while j < len(pending) and pending[j] < combo:
            yield pending[j], False
            j += 1
        if j < len(pending) and pending[j] == combo:
            j += 1
        yield combo, True
    for combo in pending[j:]:
        yield combo, False


def _buckets_of(levels: tuple[GroupBy, ...], key: Key) -> tuple[Any, ...]:
    return tuple(value for g, (value, _) in zip(levels, key, strict=True) if g.bucket)


# -- ordering -----------------------------------------------------------------------------------------------


def order(spec: AnalyticsSpec, groups: dict[Key, list[Any]]) -> list[Key]:
    """Time buckets chronologically first; then the ordering metric descending (null last); then group
    values ascending, a missing value after the values and "others" last."""
    index = [m.key for m in spec.metrics].index(spec.order_by)
    levels = spec.group_by

    def sort_key(key: Key) -> tuple[Any, ...]:
        parts: list[Any] = [value for g, (value, _) in zip(levels, key, strict=True) if g.bucket]
        metric = groups[key][index]
        parts.append((metric is None, -metric if metric is not None else 0))
        for g, (value, other) in zip(levels, key, strict=True):
            if not g.bucket:
                parts.append((other, value is None, value if value is not None else ""))
        return tuple(parts)

    return sorted(groups, key=sort_key)


# -- shaping ------------------------------------------------------------------------------------------------


def label(g: GroupBy, value: Any, other: bool) -> Any:
    """A group value as the response shows it."""
    if other:
        return OTHERS
    if g.bucket is None or value is None:
        return value
    if g.bucket == "day":
        return value.strftime("%Y-%m-%d")
    if g.bucket == "month":
        return value.strftime("%Y-%m")
    first, last = bucket_days("week", value)
    return f"{first:%b %d} - {last:%b %d}"


def pct_change(current: Any, previous: Any) -> float | None:
    """round((current - previous) / previous * 100, 2); null when previous is 0 or null."""
    if current is None or previous is None or previous == 0:
        return None
    return round((current - previous) / previous * 100, 2)


def _settled(m: Metric, value: Any) -> Any:
    """A percentile to 12 significant digits: both engines interpolate exactly at q·(n−1), but round the
    interpolation in a different order (DuckDB 720.9163199999997, ClickHouse 720.9163199999998); past
    the twelfth digit the value is rounding noise, and the engines' answers are the same."""
    if m.quantile is not None and isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.12g}")
    return value


def shape_row(
    spec: AnalyticsSpec,
    settings: Settings,
    appid: str,
    key: Key,
    values: list[Any],
    kept: list[tuple[Any, ...]],
    previous: dict[Key, list[Any]],
) -> dict[str, Any]:
    row: dict[str, Any] = {}
    links = []
    for i, (g, (value, other)) in enumerate(zip(spec.group_by, key, strict=True)):
        row[g.key] = label(g, value, other)
        links.append(LinkGroup(g.attribute, g.property_name, value, other, kept[i]))
    for m, v in zip(spec.metrics, values, strict=True):
        row[m.key] = v
    row["dashboard_link"] = build_dashboard_link(
        settings.public_url, appid, spec.window, spec.filters, links, spec.resource
    )
    if spec.comparison:
        before = previous.get(key)
        for j, m in enumerate(spec.metrics):
            prev = _settled(m, before[j]) if before is not None else (0 if m.is_count else None)
            row[f"{m.key}_pct_change"] = pct_change(values[j], prev)
    return row
