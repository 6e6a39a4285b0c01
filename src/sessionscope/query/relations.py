"""Base relations: the rows each resource's queries read. A resource is a catalogue and one of these.

Each builder returns SQL for the FROM clause. Every table it scans is confined to the tenant and the query
window by the builder itself (and the caller's WHERE adds both again on the relation), so no query over any
resource can read another app's rows:

- `sessions`: the sessions table, one row per session;
- `events`: one row per event, joined with its session's columns (which keep their names); the event's own
  columns are `ev_session`, `ev_seq`, `ev_name`, `ev_screen`, `ev_time`, `ev_at`, `ev_props`, `ev_pmap`;
- `users`: one row per session of the window, joined with its user's totals over the window (the
  `metrics.USER_MEASURES` columns, and `user_last_seen_at`) and the upload time of the user's first ever
  session (`user_first_seen_at`); a user matches when one of its rows matches. It can be confined to some
  rows (`rows`, a condition on the sessions table) of some users (`keys`, a subquery of their user keys): the
  totals of those users are then computed for them alone, and are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .metrics import USER_MEASURES, user_total
from .spec import Window

if TYPE_CHECKING:
    from .render import SqlBuilder

# the events table's columns under their relation names (the session's columns keep theirs); every name
# differs from the sessions table's, so the join's columns need no qualifier on any engine
EVENT_COLUMNS = {
    "session_id": "ev_session",
    "seq": "ev_seq",
    "name": "ev_name",
    "screen": "ev_screen",
    "time_sec": "ev_time",
    "event_at": "ev_at",
    "props": "ev_props",
    "pmap": "ev_pmap",
}


_EVENTS_OWN = ", ".join(f"{c} AS {alias}" for c, alias in EVENT_COLUMNS.items())  # selected from `events`


def _expr(b: SqlBuilder, name: str, **kw: str) -> str:
    return b.dialect.expressions[name].format(**kw)


def window_condition(b: SqlBuilder, column: str, window: Window) -> str:
    """`column` lies in the window: between its bounds and outside its excluded days."""
    parts = [_expr(b, "between", c=column, lo=b.bind(window.lo, "DateTime"), hi=b.bind(window.hi, "DateTime"))]
    for lo, hi in window.excluded:
        between = _expr(b, "between", c=column, lo=b.bind(lo, "DateTime"), hi=b.bind(hi, "DateTime"))
        parts.append(f"NOT ({between})")
    return " AND ".join(parts)


def _scan(table: str, tenant: str, window: str) -> str:
    return f"(SELECT * FROM {table} WHERE app_id = {tenant} AND {window})"


def _sessions(b: SqlBuilder, app_id: str, window: Window) -> str:
    # the caller's WHERE confines the table to the tenant and the window
    return "sessions"


def _events(b: SqlBuilder, app_id: str, window: Window) -> str:
    tenant = b.bind(app_id, "String")
    in_window = window_condition(b, "uploaded_at", window)  # an event's uploaded_at is its session's
    events = f"(SELECT {_EVENTS_OWN} FROM events WHERE app_id = {tenant} AND {in_window})"
    return (
        f"(SELECT * FROM {events} AS e "
        f"INNER JOIN {_scan('sessions', tenant, in_window)} AS s ON e.ev_session = s.session_id) AS base"
    )


def _users(b: SqlBuilder, app_id: str, window: Window, rows: str | None = None, keys: str | None = None) -> str:
    tenant = b.bind(app_id, "String")
    in_window = window_condition(b, "uploaded_at", window)
    totals = [f"{user_total(b.dialect.expressions, m.column, m.type)} AS {name}" for name, m in USER_MEASURES.items()]
    totals.append(f"{_expr(b, 'agg_max', x='uploaded_at')} AS user_last_seen_at")
    first_seen = _expr(b, "agg_min", x="uploaded_at")
    user = "user_key"  # one per user, as the stores keep it (store/duckdb.py, store/ch_common.py)
    # the totals are confined to the given users, if any (the same subquery text each time)
    mine = "" if keys is None else f" AND {_expr(b, 'in_page', c=user, q=keys)}"
    # the joined relations' column names are all distinct (t_uid, f_uid, user_*), so `*` is unambiguous
    return (
        f"(SELECT * FROM {_scan('sessions', tenant, in_window + ('' if rows is None else f' AND {rows}'))} AS s "
        f"INNER JOIN (SELECT {user} AS t_uid, {', '.join(totals)} FROM sessions "
        f"WHERE app_id = {tenant} AND {in_window}{mine} GROUP BY {user}) AS t ON s.{user} = t.t_uid "
        f"LEFT JOIN (SELECT {user} AS f_uid, {first_seen} AS user_first_seen_at FROM sessions "
        f"WHERE app_id = {tenant} AND session_number = 1{mine} GROUP BY {user}) AS f ON s.{user} = f.f_uid"
        f") AS base"
    )


RELATIONS: dict[str, Callable[[SqlBuilder, str, Window], str]] = {"sessions": _sessions, "events": _events, "users": _users}


# -- a page cut on its sort keys first (query/render.py) -------------------------------------------------------
# The page is a CTE named `page`: `page_time` (the time column) and `page_k0`, `page_k1`, ... (the resource's
# order keys). Its keys are read from a narrower source than the relation when every filter holds there; the
# listed columns are then read for the page's rows alone, from the relation confined to them.
def page_times(b: SqlBuilder, column: str, page: str = "page") -> str:
    """The page's own upload times (`page_time` of the CTE `page`): DuckDB skips the row groups outside their
    range, by their zone maps.

    An IN on the page's times, not a BETWEEN on their min and max: the IN's hash join is built before the
    scan starts, so its range always reaches the scan; two scalar subqueries' range reached it only when
    their pipelines happened to finish first (measured on 1M sessions, an events page: 7-9 ms every time,
    against 10 or 52 ms, about half the runs each)."""
    return _expr(b, "in_page", c=column, q=f"SELECT page_time FROM {page}")


def _sessions_of_page(b: SqlBuilder, app_id: str, window: Window) -> str:
    in_page = _expr(b, "in_page", c="session_id", q="SELECT page_k0 FROM page")
    return f"(SELECT * FROM sessions WHERE app_id = {b.bind(app_id, 'String')} AND {page_times(b, 'uploaded_at')} AND {in_page})"


def _event_keys(b: SqlBuilder, app_id: str, window: Window) -> str:
    """The events table alone, its columns under their relation names, with the app, the session's upload time
    and id: enough for the page's keys and for a filter on the event itself."""
    return (
        f"(SELECT app_id, uploaded_at, session_id, {_EVENTS_OWN} FROM events "
        f"WHERE app_id = {b.bind(app_id, 'String')} AND {window_condition(b, 'uploaded_at', window)}) AS base"
    )


def _events_of_page(b: SqlBuilder, app_id: str, window: Window) -> str:
    """The page's events (by session id and sequence number), each joined with its session."""
    tenant = b.bind(app_id, "String")
    pairs = _expr(b, "in_page", c="(session_id, seq)", q="SELECT page_k0, page_k1 FROM page")
    events = f"(SELECT {_EVENTS_OWN} FROM events WHERE app_id = {tenant} AND {page_times(b, 'uploaded_at')} AND {pairs})"
    sessions = _sessions_of_page(b, app_id, window)
    return f"(SELECT * FROM {events} AS e INNER JOIN {sessions} AS s ON e.ev_session = s.session_id) AS base"


@dataclass(frozen=True)
class KeysFirst:
    """How a relation's page is cut on its sort keys before its rows are read."""

    keys: Callable[[SqlBuilder, str, Window], str]  # where the keys are read when every filter holds there,
    columns: frozenset[str]  # which has these columns (a filter on any other reads the keys from the relation)
    rows: Callable[[SqlBuilder, str, Window], str]  # the relation confined to the page's rows
    # whether every engine gains by it when the keys come from the narrower source, or only those that read
    # each listed column of every row they sort (`Dialect.late_rows`). ClickHouse reads the other columns of
    # the kept rows only; it gains when a join is left out of the page (events: 1.5 s -> 90 ms at 1M sessions),
    # not when the page needs the join anyway (887 -> 1,000 ms)
    everywhere: bool
    # the joined table whose columns a filter may test by a semi-join instead, and the key both share: a
    # filter reading none of `partner_lacks` (the narrow source's own columns) is tested as "the key is in
    # the partner's matching rows", so the page still leaves the join out (events of sessions in one
    # country, chDB: 895 -> 480 ms at 1M sessions, 7.5 -> 4.4 s at 10M; DuckDB the same either way)
    semi: tuple[str, str] | None = None  # (table, key column)
    partner_lacks: frozenset[str] = frozenset()
    # the partner's column counting each of its rows' rows in the narrow source. When every filter is the
    # partner's, the page's rows all belong to the partner's first offset + limit matching rows that have any
    # (in the page's order, each has one at least), so the semi-join reads those alone: events of sessions
    # in one country, in-process: DuckDB 10M 886 -> 14 ms, chDB 10M 4.4 s -> 0.19 s
    counted_by: str | None = None


KEYS_FIRST: dict[str, KeysFirst] = {
    # the sessions table is its own narrowest source: the keys come from it whatever the filters
    "sessions": KeysFirst(_sessions, frozenset(), _sessions_of_page, everywhere=False),
    "events": KeysFirst(
        _event_keys, frozenset(["app_id", "uploaded_at", "session_id", *EVENT_COLUMNS.values()]), _events_of_page,
        everywhere=True, semi=("sessions", "session_id"), partner_lacks=frozenset(EVENT_COLUMNS.values()),
        counted_by="event_count",
    ),
}
# The per-user relations, which can be confined to a subquery of user keys; and the columns each adds to the
# sessions table's (a filter on one of them needs the relation, the others can be tested on `sessions`).
PER_USER: dict[str, Callable[[SqlBuilder, str, Window, str, str], str]] = {"users": _users}
ADDED_COLUMNS: dict[str, frozenset[str]] = {
    "users": frozenset([*USER_MEASURES, "user_last_seen_at", "user_first_seen_at"]),
}
