"""The benchmark suite's query mix, each written five ways: API parameters, hand-written DuckDB SQL,
hand-written ClickHouse SQL, Polars, and a numpy floor.

Every query reads the same 30-day window of one app. New users are counted everywhere as the sessions
numbered 1: the store numbers each user's sessions at write time, so that is the count of distinct users
whose first session matches, and it is what the API computes too (query/metrics.py). The hand-written SQL is what a careful engineer would
write for the same answer (the analytics ones fold groups past the top 50 into "others", as the API does).
Polars and numpy compute the same figures on columns loaded into memory once (their load is not timed);
numpy is a floor (no NULL semantics beyond NaN, no tie-breaks, no folding), so it shows what the hardware
can do, not an alternative implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

WINDOW = {"lower": "2026-10-02T12:00:00Z", "upper": "2026-11-01T12:00:00Z"}
LO, HI = datetime(2026, 10, 2, 12), datetime(2026, 11, 1, 12)
PREV_LO, PREV_HI = datetime(2026, 9, 2, 11, 59, 59), datetime(2026, 10, 2, 11, 59, 59)

# --- DuckDB --------------------------------------------------------------------------------------
# users by their key, as the stores keep it for this: an integer on DuckDB (store/duckdb.py), the id's SipHash128
# on ClickHouse (store/ch_common.py)
D_METRICS = """count(*) AS n, count(DISTINCT user_key) AS users,
  count(*) FILTER (WHERE session_number = 1) AS new_users,
  avg(total_gesture), avg(rage_gesture_count), avg(responsive_gesture_count), avg(unresponsive_gesture_count),
  avg(duration_sec), avg(unique_screens_count)"""
D_TENANT = "app_id = $app AND uploaded_at BETWEEN $lo::TIMESTAMP AND $hi::TIMESTAMP"

# What differs between the engines in a hand-written top-50 folding: the row count, the membership test
# of the kept values (DuckDB's IN does not match NULL), and how "others" is written.
_FOLDING = {
    "duckdb": ("count(*)",
               "CASE WHEN {c} IN (SELECT v FROM top{i}) OR ({c} IS NULL AND EXISTS (SELECT 1 FROM top{i} WHERE v IS NULL)) "
               "THEN {c} ELSE '\x00others' END AS k{i}"),
    "clickhouse": ("count()", "if(tuple({c}) GLOBAL IN (SELECT tuple(v) FROM top{i}), {c}, '\\0others') AS k{i}"),
}


def folded(engine: str, columns: list[str], where: str = "true") -> str:
    """Top-50 folding per level, by hand: keep the 50 most frequent values, the rest is 'others'."""
    count, keep = _FOLDING[engine]
    tenant, metrics = (D_TENANT, D_METRICS) if engine == "duckdb" else (C_TENANT, C_METRICS)
    tops = ",\n".join(
        f"top{i} AS (SELECT {c} AS v FROM m GROUP BY {c} ORDER BY {count} DESC, {c} NULLS LAST LIMIT 50)"
        for i, c in enumerate(columns)
    )
    keys = ", ".join(keep.format(c=c, i=i) for i, c in enumerate(columns))
    names = ", ".join(f"k{i}" for i in range(len(columns)))
    return (
        f"WITH m AS (SELECT * FROM sessions WHERE {tenant} AND {where}),\n{tops}\n"
        f"SELECT {names}, {metrics} FROM (SELECT {keys}, * FROM m) GROUP BY {names}"
    )


def list_sql(engine: str, where: str, offset: int = 0) -> str:
    from sessionscope import shape

    tenant = D_TENANT if engine == "duckdb" else C_TENANT
    return (
        f"SELECT {', '.join(shape.SESSION_COLUMNS)} FROM sessions WHERE {tenant} AND {where} "
        f"ORDER BY uploaded_at DESC, session_id LIMIT 51 OFFSET {offset}"
    )


# A page of users: each user's latest matching session, newest first, with the user's totals over the window
# and first-seen time. By hand: the page of users from one GROUP BY, their latest matching session ids, then
# the totals of those users alone. {any}, {fsum}: the engine's any-value and float-sum aggregates.
_USERS = """WITH p AS (SELECT user_key, max(uploaded_at) AS t, {any}(uxcamuserid) AS u FROM sessions
  WHERE {tenant} AND {where} GROUP BY user_key ORDER BY t DESC, u LIMIT 51),
l AS (SELECT min(s.session_id) AS sid FROM sessions AS s JOIN p ON s.user_key = p.user_key AND s.uploaded_at = p.t
  WHERE s.app_id = {app} AND {where} GROUP BY s.user_key),
tot AS (SELECT user_key, count(*) AS n, sum(total_gesture) AS g, sum(rage_gesture_count) AS rg,
  sum(responsive_gesture_count) AS resp, sum(unresponsive_gesture_count) AS unresp, sum(total_screen) AS sc,
  {fsum}(duration_sec) AS d, sum(event_count) AS ev, max(uploaded_at) AS last_seen FROM sessions
  WHERE {tenant} AND user_key IN (SELECT user_key FROM p) GROUP BY user_key),
fs AS (SELECT user_key, min(uploaded_at) AS first_seen FROM sessions
  WHERE app_id = {app} AND session_number = 1 AND user_key IN (SELECT user_key FROM p) GROUP BY user_key)
SELECT s.uxcamuserid, s.user_identity, s.user_props, s.user_alias, fs.first_seen, tot.last_seen, tot.n, tot.d, tot.g,
  tot.sc, tot.ev, tot.rg, tot.resp, tot.unresp, s.country_code, s.city, s.device_country, s.model, s.device_id,
  s.platform, s.app_version, s.os_version
FROM sessions AS s JOIN tot ON s.user_key = tot.user_key LEFT JOIN fs ON s.user_key = fs.user_key
WHERE s.app_id = {app} AND s.session_id IN (SELECT sid FROM l) ORDER BY s.uploaded_at DESC, s.uxcamuserid"""


# A page of events: newest session first, each session's events in their order, with the session's columns.
# By hand: the page's keys from the events alone (a filter on the session by the first matching sessions), then
# those events joined with their sessions, found within the page's upload times. (An IN on those times, not a
# BETWEEN on their min and max: DuckDB pushes the BETWEEN's range into its scans only when its two scalar
# subqueries happen to finish first, and this query took 10 or 52 ms at random; see docs/operations.md.)
_EVENTS = """WITH page AS (SELECT uploaded_at AS t, session_id AS sid, seq FROM events WHERE {tenant} AND {where}
  ORDER BY uploaded_at DESC, session_id, seq LIMIT 51)
SELECT s.session_id, e.name, e.time_sec, e.seq, e.screen, s.uploaded_at, e.props, s.user_identity, s.user_props,
  s.uxcamuserid, s.has_video, s.is_crashed, s.duration_sec, s.total_gesture, s.total_screen, s.unique_screens_count,
  s.network_type, s.session_number, s.device_country, s.model, s.device_id, s.platform, s.app_version,
  s.os_version, s.manufacturer, s.device_class
FROM (SELECT * FROM events WHERE app_id = {app} AND (session_id, seq) IN (SELECT sid, seq FROM page)
  AND uploaded_at IN (SELECT t FROM page)) AS e
JOIN (SELECT * FROM sessions WHERE app_id = {app} AND session_id IN (SELECT sid FROM page)
  AND uploaded_at IN (SELECT t FROM page)) AS s ON e.session_id = s.session_id
ORDER BY s.uploaded_at DESC, s.session_id, e.seq"""


def _engine(engine: str) -> tuple[str, str]:
    return (D_TENANT, "$app") if engine == "duckdb" else (C_TENANT, "{app:String}")


def events_sql(engine: str, where: str) -> str:
    """The events page, `where` on the events' own columns."""
    tenant, app = _engine(engine)
    return _EVENTS.format(tenant=tenant, app=app, where=where)


def first_sessions(engine: str, sessions_where: str) -> str:
    """The events page's `where` for a filter on the sessions alone: its 51 events all belong to the first 51
    matching sessions that have events (each has one at least)."""
    return (f"(uploaded_at, session_id) IN (SELECT uploaded_at, session_id FROM sessions WHERE {_engine(engine)[0]} "
            f"AND {sessions_where} AND event_count > 0 ORDER BY uploaded_at DESC, session_id LIMIT 51)")


def users_sql(engine: str, where: str) -> str:
    if engine == "duckdb":
        return _USERS.format(any="any_value", fsum="fsum", tenant=D_TENANT, app="$app", where=where)
    return _USERS.format(any="any", fsum="sum", tenant=C_TENANT, app="{app:String}", where=where)


# --- ClickHouse ----------------------------------------------------------------------------------
C_METRICS = """count() AS n, uniqExact(user_key) AS users, countIf(session_number = 1) AS new_users,
  avg(total_gesture), avg(rage_gesture_count), avg(responsive_gesture_count), avg(unresponsive_gesture_count),
  avg(duration_sec), avg(unique_screens_count)"""
C_TENANT = "app_id = {app:String} AND uploaded_at BETWEEN {lo:DateTime64(0, 'UTC')} AND {hi:DateTime64(0, 'UTC')}"


# --- Polars and numpy ----------------------------------------------------------------------------
FRAME_SQL = """SELECT session_id, uploaded_at, uxcamuserid, session_number, device_country, platform, duration_sec,
  model, app_version, screens, is_crashed, uprops['age_group'] AS age_group, total_gesture, rage_gesture_count,
  responsive_gesture_count, unresponsive_gesture_count, unique_screens_count
FROM sessions WHERE app_id = $app"""


def pl_metrics() -> list[Any]:
    import polars as pl

    u = pl.col("uxcamuserid")
    return [
        pl.len().alias("n"), u.n_unique().alias("users"),
        (pl.col("session_number") == 1).sum().alias("new_users"),
        *(pl.col(c).mean() for c in ("total_gesture", "rage_gesture_count", "responsive_gesture_count",
                                     "unresponsive_gesture_count", "duration_sec", "unique_screens_count")),
    ]


def pl_window(lo: datetime = LO, hi: datetime = HI) -> Any:
    import polars as pl

    return pl.col("uploaded_at").is_between(lo, hi)


def pl_list(df: Any, cond: Any, offset: int = 0) -> Any:
    return (df.lazy().filter(pl_window() & cond).sort(["uploaded_at", "session_id"], descending=[True, False])
            .slice(offset, 51).collect())


def pl_group(df: Any, keys: list[Any], cond: Any = True) -> Any:
    return df.lazy().filter(pl_window() & cond).group_by(keys).agg(pl_metrics()).collect()


@dataclass
class Columns:
    """The numpy floor's columns: times as int64 seconds, text as dictionary codes, numbers as float (NaN)."""

    t: np.ndarray
    user: np.ndarray
    n_users: int
    new: np.ndarray
    country: np.ndarray
    usa: int
    model: np.ndarray
    n_model: int
    version: np.ndarray
    n_version: int
    android: np.ndarray
    duration: np.ndarray
    measures: list[np.ndarray] = field(default_factory=list)


def np_columns(column: Callable[[str], Any]) -> Columns:
    """The floor's columns from `column(name)`, an Arrow column of the app's sessions, every column in the
    same row order (a frame's `table.column`, or one engine query a column where no frame is held)."""
    import pyarrow.compute as pc

    def codes(name: str) -> tuple[np.ndarray, Any]:
        enc = pc.dictionary_encode(column(name)).combine_chunks()
        return enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary

    def num(name: str) -> np.ndarray:
        return column(name).cast("double").to_numpy(zero_copy_only=False)

    def position(values: Any, value: str) -> int:
        listed = values.to_pylist()
        return listed.index(value) if value in listed else -2

    t = column("uploaded_at").cast("timestamp[s]").cast("int64").to_numpy(zero_copy_only=False)
    user, users = codes("uxcamuserid")
    country, countries = codes("device_country")
    model, models = codes("model")
    version, versions = codes("app_version")
    platform, platforms = codes("platform")
    measures = [num(c) for c in NP_MEASURES]
    return Columns(
        t=t, user=user, n_users=len(users), new=num("session_number") == 1,
        country=country, usa=position(countries, "USA"),
        model=model, n_model=len(models) + 1, version=version, n_version=len(versions) + 1,
        android=platform == position(platforms, "android"),
        duration=measures[NP_MEASURES.index("duration_sec")],
        measures=measures,
    )


NP_MEASURES = ("total_gesture", "rage_gesture_count", "responsive_gesture_count", "unresponsive_gesture_count",
               "duration_sec", "unique_screens_count")


def _secs(d: datetime) -> int:
    return int((d - datetime(1970, 1, 1)).total_seconds())


def np_window(c: Columns, lo: datetime = LO, hi: datetime = HI) -> np.ndarray:
    return (c.t >= _secs(lo)) & (c.t <= _secs(hi))


def np_totals(c: Columns, lo: datetime = LO, hi: datetime = HI) -> list[Any]:
    m = np_window(c, lo, hi)
    users = np.count_nonzero(np.bincount(c.user[m], minlength=c.n_users))
    new = int(np.count_nonzero(m & c.new))
    return [int(m.sum()), users, new, *(_mean(x[m]) for x in c.measures)]


def _mean(x: np.ndarray) -> float:
    """The mean of the values that are not NaN (NULL); NaN when there are none, without numpy's warning."""
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else float("nan")


def np_group(c: Columns, key: np.ndarray, size: int, mask: np.ndarray) -> list[Any]:
    k = key[mask] + 1  # NULL (-1) becomes group 0
    counts = np.bincount(k, minlength=size + 1)
    pairs = np.unique(k * c.n_users + c.user[mask])  # distinct users per group
    users = np.bincount(pairs // c.n_users, minlength=size + 1)
    sums = [np.bincount(k, weights=np.nan_to_num(x[mask]), minlength=size + 1) for x in c.measures]
    return [counts, users, *sums]


def np_list(c: Columns, mask: np.ndarray, offset: int = 0) -> np.ndarray:
    idx = np.flatnonzero(mask)
    top = idx[np.argpartition(-c.t[idx], min(offset + 51, len(idx) - 1))[: offset + 51]]
    return top[np.argsort(-c.t[top], kind="stable")][offset:]


# --- the mix -------------------------------------------------------------------------------------
@dataclass
class Query:
    name: str
    kind: str  # "list" (of sessions), "users" or "events" (a page of them), or "analytics"
    params: dict[str, Any]  # API parameters besides the window (which every query has)
    duck: list[str]  # hand-written DuckDB SQL; a second statement runs over the previous window
    ch: list[str]  # the same in ClickHouse SQL
    polars: Callable[[Any], Any] | None = None
    numpy: Callable[[Columns], Any] | None = None


def _f(attribute: str, operator: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"attribute": attribute, "operator": operator, "value": value, **extra}


def queries() -> list[Query]:
    import polars as pl

    usa = _f("device_country", "equal", "USA")
    ios_long = [_f("device_platform", "equal", "2"), _f("session_duration", "greater", 60)]
    screens = [_f("session_screen_list", "has_any", ["CartActivity", "CartViewController"]),
               _f("session_crashed", "equal", True)]
    scr = pl.col("screens")
    return [
        Query("list: 1 filter (country)", "list", {"filters": [usa]},
              [list_sql("duckdb", "device_country = 'USA'")], [list_sql("clickhouse", "device_country = 'USA'")],
              lambda df: pl_list(df, pl.col("device_country") == "USA"),
              lambda c: np_list(c, np_window(c) & (c.country == c.usa))),
        Query("list: 2 filters (ios, duration>60)", "list", {"filters": ios_long},
              [list_sql("duckdb", "platform = 'ios' AND duration_sec > 60")], [list_sql("clickhouse", "platform = 'ios' AND duration_sec > 60")],
              lambda df: pl_list(df, (pl.col("platform") == "ios") & (pl.col("duration_sec") > 60))),
        Query("list: deep page 100 (country)", "list", {"filters": [usa], "page": 100},
              [list_sql("duckdb", "device_country = 'USA'", 4950)], [list_sql("clickhouse", "device_country = 'USA'", 4950)],
              lambda df: pl_list(df, pl.col("device_country") == "USA", 4950),
              lambda c: np_list(c, np_window(c) & (c.country == c.usa), 4950)),
        Query("list: screen has_any + crashed", "list", {"filters": screens},
              [list_sql("duckdb", "list_has_any(screens, ['CartActivity', 'CartViewController']) AND is_crashed")],
              [list_sql("clickhouse", "hasAny(screens, ['CartActivity', 'CartViewController']) AND is_crashed")],
              lambda df: pl_list(df, (scr.list.contains("CartActivity") | scr.list.contains("CartViewController"))
                                 & pl.col("is_crashed"))),
        Query("users: page 1 (country)", "users", {"filters": [usa]},
              [users_sql("duckdb", "device_country = 'USA'")], [users_sql("clickhouse", "device_country = 'USA'")]),
        Query("events: page 1 (event name)", "events",
              {"filters": [_f("event_name", "equal", "Add to cart")]},
              [events_sql("duckdb", "name = 'Add to cart'")], [events_sql("clickhouse", "name = 'Add to cart'")]),
        Query("events: page 1 (country)", "events", {"filters": [usa]},
              [events_sql("duckdb", first_sessions("duckdb", "device_country = 'USA'"))],
              [events_sql("clickhouse", first_sessions("clickhouse", "device_country = 'USA'"))]),
        Query("analytics: totals", "analytics", {},
              [f"SELECT {D_METRICS} FROM sessions WHERE {D_TENANT}"], [f"SELECT {C_METRICS} FROM sessions WHERE {C_TENANT}"],
              lambda df: df.lazy().filter(pl_window()).select(pl_metrics()).collect(), np_totals),
        Query("analytics: group model, filter country", "analytics",
              {"group_by": [{"attribute": "device_model"}], "filters": [usa]},
              [folded("duckdb", ["model"], "device_country = 'USA'")], [folded("clickhouse", ["model"], "device_country = 'USA'")],
              lambda df: pl_group(df, ["model"], pl.col("device_country") == "USA"),
              lambda c: np_group(c, c.model, c.n_model, np_window(c) & (c.country == c.usa))),
        Query("analytics: group version x model", "analytics",
              {"group_by": [{"attribute": "app_version"}, {"attribute": "device_model"}],
               "filters": [_f("device_platform", "equal", "1")]},
              [folded("duckdb", ["app_version", "model"], "platform = 'android'")],
              [folded("clickhouse", ["app_version", "model"], "platform = 'android'")],
              lambda df: pl_group(df, ["app_version", "model"], pl.col("platform") == "android"),
              lambda c: np_group(c, (c.version + 1) * c.n_model + c.model, c.n_version * c.n_model,
                                 np_window(c) & c.android)),
        Query("analytics: day series", "analytics", {"group_by": [{"attribute": "session_uploadedon_day"}]},
              [f"SELECT date_trunc('day', uploaded_at) AS d, {D_METRICS} FROM sessions WHERE {D_TENANT} GROUP BY d"],
              [f"SELECT toStartOfDay(uploaded_at) AS d, {C_METRICS} FROM sessions WHERE {C_TENANT} GROUP BY d"],
              lambda df: pl_group(df, [pl.col("uploaded_at").dt.truncate("1d")]),
              lambda c: np_group(c, (c.t - _secs(LO)) // 86400, 32, np_window(c))),
        Query("analytics: week series", "analytics", {"group_by": [{"attribute": "session_uploaded_week"}]},
              [f"SELECT date_trunc('week', uploaded_at) AS w, {D_METRICS} FROM sessions WHERE {D_TENANT} GROUP BY w"],
              [f"SELECT toMonday(uploaded_at) AS w, {C_METRICS} FROM sessions WHERE {C_TENANT} GROUP BY w"],
              lambda df: pl_group(df, [pl.col("uploaded_at").dt.truncate("1w")]),
              lambda c: np_group(c, (c.t - _secs(datetime(2026, 9, 28))) // (7 * 86400), 8, np_window(c))),
        Query("analytics: group custom property", "analytics",
              {"group_by": [{"attribute": "user_custom_property", "property_name": "age_group"}]},
              [folded("duckdb", ["uprops['age_group']"])], [folded("clickhouse", ["uprops['age_group']"])],
              lambda df: pl_group(df, ["age_group"])),
        Query("analytics: comparison (totals)", "analytics", {"comparison": 1},
              [f"SELECT {D_METRICS} FROM sessions WHERE {D_TENANT}"] * 2,
              [f"SELECT {C_METRICS} FROM sessions WHERE {C_TENANT}"] * 2,
              lambda df: (df.lazy().filter(pl_window()).select(pl_metrics()).collect(),
                          df.lazy().filter(pl_window(PREV_LO, PREV_HI)).select(pl_metrics()).collect()),
              lambda c: (np_totals(c), np_totals(c, PREV_LO, PREV_HI))),
    ]


def api_params(q: Query) -> dict[str, Any]:
    params = dict(q.params)
    params["filters"] = [_f("date_range", "between_dates", WINDOW), *q.params.get("filters", [])]
    params.setdefault("page_size", 500 if q.kind == "analytics" else 50)
    return params


def sql_windows(q: Query) -> list[tuple[datetime, datetime]]:
    return [(LO, HI), (PREV_LO, PREV_HI)][: len(q.duck)]


def group_counts(rows: list[dict[str, Any]]) -> list[tuple[int, int, int]]:
    """An analytics answer as sorted (sessions, users, new users) per non-empty group."""
    keys = ("session_count", "session_unique_user_count", "session_new_users_count")
    return sorted(tuple(r[k] for k in keys) for r in rows if r["session_count"])
