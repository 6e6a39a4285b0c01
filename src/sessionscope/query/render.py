"""Plan + dialect -> SQL text and bound parameters. Identifiers come only from the catalogue;
every user value is a bound parameter."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from ..catalog import OPERATORS, Attribute
from ..catalog.types import BOOL, DATETIME, EVENT, FLOAT, INTEGER, JSON, LIST, STRING, Resource
from .dialects import Dialect
from .plan import ListPlan, Scope
from .relations import ADDED_COLUMNS, KEYS_FIRST, PER_USER, RELATIONS, KeysFirst, page_times, window_condition
from .spec import Filter, Window

POSITIVE_OF = {"not_equal": "equal", "not_in": "in", "not_contains": "contains", "not_has_any": "has_any"}
NUMERIC_OPS = {"greater", "less", "greater_or_equal", "less_or_equal"}


class SqlBuilder:
    """Collects bound parameters and hands out their placeholders."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.values: list[Any] = []

    def bind(self, value: Any, kind: str) -> str:
        self.values.append(value)
        return self.dialect.placeholder(len(self.values), kind)

    def params(self) -> list[Any] | dict[str, Any]:
        if self.dialect.named_params:
            return {f"p{i + 1}": v for i, v in enumerate(self.values)}
        return list(self.values)


def bound(dialect: Dialect, sql: str, **values: tuple[Any, str]) -> tuple[str, Any]:
    """`sql` with each {name} replaced by the dialect's placeholder for its (value, type), and the bound values:
    the same hand-written statements (apps, copy, existence checks) run on every engine."""
    b = SqlBuilder(dialect)
    return sql.format(**{name: b.bind(value, kind) for name, (value, kind) in values.items()}), b.params()


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, int):
        return "Int64"
    if isinstance(value, float):
        return "Float64"
    if isinstance(value, list):
        return "Array(String)"
    return "String"


def _expr(d: Dialect, name: str, **kw: str) -> str:
    return d.expressions[name].format(**kw)


def property_expr(b: SqlBuilder, column: str, attr: Attribute, property_name: str | None) -> str:
    """A JSON attribute's property: its own column when it has one (`property_columns`), else a map lookup."""
    own = attr.property_columns.get(property_name or "")
    if own is not None:
        return own
    return _expr(b.dialect, "map_get", m=column, k=b.bind(property_name, "String"))


def _condition(b: SqlBuilder, column: str, f: Filter, op_name: str) -> str:
    """One operator applied to a column expression (JSON properties handled here)."""
    d = b.dialect
    attr = f.attribute
    expr = column
    value = f.value
    floats = attr.type == FLOAT  # whether the expression is a float
    if attr.type == JSON:
        expr = property_expr(b, column, attr, f.property_name)
        if op_name in NUMERIC_OPS or isinstance(value, int | float) and not isinstance(value, bool):
            expr, floats = _expr(d, "to_number", x=expr), True
    if floats and type(value) is int:
        # compared as a float, as DuckDB compares a DOUBLE with a BIGINT: ClickHouse compared 9007199254740993
        # with the float a stored "9007199254740993" reads as (…992) exactly, and never matched; a float with a
        # float is also quicker (chDB, 1M sessions, duration_sec > 60 and a platform: 53.8 -> 49.3 ms)
        value = float(value) if abs(value) < 2**1023 else math.copysign(math.inf, value)  # past any float
    if attr.type in (EVENT, LIST) or op_name in ("in", "not_in", "has_any", "not_has_any"):
        if not isinstance(value, list):
            value = [value]
    return d.operators[op_name].format(c=expr, v=b.bind(value, _value_kind(value)))


def _event_subquery(b: SqlBuilder, scope: Scope, conditions: list[str]) -> str:
    d = b.dialect
    window = _expr(
        d,
        "between",
        c="uploaded_at",
        lo=b.bind(scope.window.lo, "DateTime"),
        hi=b.bind(scope.window.hi, "DateTime"),
    )
    where = " AND ".join([f"app_id = {b.bind(scope.app_id, 'String')}", window, *conditions])
    return f"SELECT session_id FROM events WHERE {where}"


def _time_condition(b: SqlBuilder, f: Filter) -> str:
    """A DateTime condition (user_first_seen_on): the column lies in the range the filter accepts; a negative
    operator (not_on) also accepts a missing time."""
    column = f.attribute.column or ""
    accepted: Window = f.value
    inside = window_condition(b, column, accepted)
    return f"({column} IS NULL OR ({inside}))" if f.operator.negative else f"({inside})"


def _user_had_none(b: SqlBuilder, scope: Scope, f: Filter) -> str:
    """The user has no session in the window with such an event: the users that have one, by the same
    condition with the positive operator, left out (a user's sessions all lie on one shard of a cluster)."""
    positive = replace(f, attribute=replace(f.attribute, of_user=False), operator=OPERATORS[POSITIVE_OF[f.operator.name]])
    had = " AND ".join([
        f"app_id = {b.bind(scope.app_id, 'String')}",
        window_condition(b, "uploaded_at", scope.window),
        render_filter(b, scope, positive),
    ])
    return _expr(b.dialect, "not_in_subquery", c="user_key", q=f"SELECT user_key FROM sessions WHERE {had}")


def render_filter(b: SqlBuilder, scope: Scope, f: Filter) -> str:
    attr = f.attribute
    op = f.operator.name
    if attr.type == DATETIME:
        return _time_condition(b, f)
    if f.user_had_none:
        return _user_had_none(b, scope, f)
    if attr.type != EVENT and f.event_property is not None:
        # event_name with a property condition on the events relation: both test the event row itself
        prop = f.event_property
        name = _condition(b, attr.column or "", f, op)
        return f"({name} AND {_condition(b, prop.attribute.column or '', prop, prop.operator.name)})"
    if attr.type == EVENT and f.event_property is None:
        # event names are denormalised onto the session row; "not" means "had none"
        return _condition(b, attr.column or "", f, {"equal": "has_any", "in": "has_any"}.get(op, "not_has_any"))
    if attr.event_column is not None:
        # a condition on the session's events: a semi-join; negative operators mean "had no such event"
        positive = POSITIVE_OF.get(op, op)
        conditions = []
        if attr.type == EVENT:
            conditions.append(_condition(b, attr.event_column, f, "in"))
            assert f.event_property is not None
            prop = f.event_property
            conditions.append(_condition(b, prop.attribute.event_column or "", prop, prop.operator.name))
        else:
            conditions.append(_condition(b, attr.event_column, f, positive))
        sub = _event_subquery(b, scope, conditions)
        negative = op in POSITIVE_OF if attr.type != EVENT else op in ("not_equal", "not_in")
        return _expr(b.dialect, "not_in_subquery" if negative else "in_subquery", c="session_id", q=sub)
    return _condition(b, attr.column or "", f, op)


def render_from(b: SqlBuilder, scope: Scope) -> str:
    """The resource's base relation (query/relations.py), itself confined to the tenant and the window."""
    return RELATIONS[scope.resource.relation](b, scope.app_id, scope.window)


# Filters on fixed-width columns are tested before text ones, and those before lists, maps and events. The
# answer is the same in any order; ClickHouse evaluates the conditions in the order written, so a cheap test
# first spares the costly one most rows (a screen-list filter after `is_crashed = true` instead of before it
# took a tenth off that list on chDB). DuckDB orders filters by its own estimates either way.
_FILTER_COST = {BOOL: 0, INTEGER: 0, FLOAT: 0, DATETIME: 0, STRING: 1}


def _filter_cost(f: Filter) -> int:
    if f.attribute.event_column is not None or f.event_property is not None:
        return 3
    return _FILTER_COST.get(f.attribute.type, 2)


def render_where(b: SqlBuilder, scope: Scope) -> str:
    """The WHERE clause: tenant first, then the window, then every filter (all must hold), cheapest first."""
    parts = [
        f"app_id = {b.bind(scope.app_id, 'String')}",
        window_condition(b, scope.resource.time_column, scope.window),
    ]
    parts.extend(render_filter(b, scope, f) for f in sorted(scope.filters, key=_filter_cost))
    return " AND ".join(parts)


def render_list(dialect: Dialect, plan: ListPlan) -> tuple[str, list[Any] | dict[str, Any]]:
    """The list's rows: newest first, then the resource's key; a per-user resource keeps each user's latest
    matching row. Without a limit (export) the rows come in no particular order, so nothing is sorted."""
    b = SqlBuilder(dialect)
    resource = plan.scope.resource
    if resource.per_user:
        return _render_per_user(b, plan), b.params()
    keys_first = KEYS_FIRST.get(resource.relation)
    if plan.limit is not None and keys_first is not None:
        split = _split_filters(keys_first, plan.scope.filters)
        if dialect.late_rows or (split is not None and keys_first.everywhere):
            return _render_keys_first(b, plan, keys_first, split), b.params()
    scope = plan.keys_scope()  # this query is the page itself
    source = render_from(b, scope)
    where = render_where(b, scope)
    columns = ", ".join(plan.columns)
    order = _order(resource)
    paging = "" if plan.limit is None else (
        f" ORDER BY {order} LIMIT {b.bind(plan.limit, 'Int64')} OFFSET {b.bind(plan.offset, 'Int64')}"
    )
    return f"SELECT {columns} FROM {source} WHERE {where}{paging}", b.params()


def _filter_columns(f: Filter) -> set[str]:
    """The relation's columns a filter reads."""
    columns = {f.attribute.column, f.event_property.attribute.column if f.event_property else None}
    if f.attribute.event_column is not None:  # a semi-join on the session's events
        columns.add("session_id")
    return {c for c in columns if c}


def _split_filters(via: KeysFirst, filters: tuple[Filter, ...]) -> tuple[list[Filter], list[Filter]] | None:
    """The filters the narrower source tests itself, and those its semi-join partner tests (`KeysFirst.semi`);
    None when one needs the whole relation."""
    own: list[Filter] = []
    partner: list[Filter] = []
    for f in filters:
        columns = _filter_columns(f)
        if columns <= via.columns:
            own.append(f)
        elif via.semi is not None and not columns & via.partner_lacks:
            partner.append(f)
        else:
            return None
    return own, partner


def _keys_source(
    b: SqlBuilder, plan: ListPlan, via: KeysFirst, split: tuple[list[Filter], list[Filter]] | None, cut: bool
) -> tuple[list[str], str, str]:
    """(CTEs, FROM, WHERE) of the rows a keys-first page is cut from: the relation with every filter, or its
    narrower source (`split`) with its own filters and a semi-join on its partner's. `cut`: the partner's
    first offset + limit matching rows may stand in for all of them (`KeysFirst.counted_by`); a count of the
    rows needs them all."""
    scope = plan.keys_scope()
    if split is None:
        return [], render_from(b, scope), render_where(b, scope)
    own, partner = split
    source, where = via.keys(b, scope.app_id, scope.window), render_where(b, replace(scope, filters=tuple(own)))
    if not partner:
        return [], source, where
    assert via.semi is not None
    table, key = via.semi
    time_col = scope.resource.time_column
    matching = f"FROM {table} WHERE {render_where(b, replace(scope, filters=tuple(partner)))}"
    if cut and via.counted_by is not None and not own:
        # the partner's first offset + limit matching rows that have rows here hold the whole page; one
        # IN on (time, key): ClickHouse runs a CTE again for each subquery that names it, and both
        # engines skip the other times by the key's first column
        assert plan.limit is not None
        cte = (
            f"candidates AS (SELECT {time_col}, {key} {matching} AND {via.counted_by} > 0 "
            f"ORDER BY {time_col} DESC, {key} ASC LIMIT {b.bind(plan.offset + plan.limit, 'Int64')})"
        )
        pairs = f"SELECT {time_col}, {key} FROM candidates"
        return [cte], source, f"{where} AND {_expr(b.dialect, 'in_page', c=f'({time_col}, {key})', q=pairs)}"
    return [], source, f"{where} AND {_expr(b.dialect, 'in_subquery', c=key, q=f'SELECT {key} {matching}')}"


def _render_keys_first(
    b: SqlBuilder, plan: ListPlan, via: KeysFirst, split: tuple[list[Filter], list[Filter]] | None
) -> str:
    """A page cut on its sort keys alone, then only its rows read whole: found by their keys (unique in an
    app) within the page's own time range. Engines otherwise read every listed column of every matching row
    (and of a join's both sides) before they keep the newest 51. The keys come from a narrower source than
    the relation (the events alone, for events) when every filter holds there or on its semi-join partner
    (`split`); filters are not tested again: every row of the page passed them."""
    resource = plan.scope.resource
    ctes, source, where = _keys_source(b, plan, via, split, cut=True)
    keys = ", ".join([f"{resource.time_column} AS page_time", *(f"{k} AS page_k{i}" for i, k in enumerate(resource.order_key))])
    order = _order(resource)
    ctes.append(
        f"page AS (SELECT {keys} FROM {source} WHERE {where} ORDER BY {order} "
        f"LIMIT {b.bind(plan.limit, 'Int64')} OFFSET {b.bind(plan.offset, 'Int64')})"
    )
    rows = via.rows(b, plan.scope.app_id, plan.scope.window)
    return f"WITH {', '.join(ctes)} SELECT {', '.join(plan.columns)} FROM {rows} ORDER BY {order}"


def render_count(dialect: Dialect, plan: ListPlan) -> tuple[str, list[Any] | dict[str, Any]]:
    """How many rows (users, for a per-user list) the list orders, counted where its page's keys are read."""
    b = SqlBuilder(dialect)
    scope = plan.keys_scope()
    if scope.resource.per_user:  # the users with a matching row
        assert not reads_user_totals(scope), "a filter on a user's totals needs the relation"
        users = _expr(dialect, "agg_count_distinct", x="user_key")
        return f"SELECT {users} FROM sessions WHERE {render_where(b, scope)}", b.params()
    via = KEYS_FIRST[scope.resource.relation]  # every list but the per-user ones is cut on its keys first
    _, source, where = _keys_source(b, plan, via, _split_filters(via, scope.filters), cut=False)
    return f"SELECT count(*) FROM {source} WHERE {where}", b.params()


def _order(resource: Resource) -> str:
    return ", ".join([f"{resource.time_column} DESC", *(f"{k} ASC" for k in resource.order_key)])


def reads_user_totals(scope: Scope) -> bool:
    """Whether a filter of a per-user list tests a column its relation adds to the sessions' (a user's totals)."""
    return any(_filter_columns(f) & ADDED_COLUMNS[scope.resource.relation] for f in scope.filters)


def reads_whole_window(scope: Scope) -> bool:
    """Whether a filter of a per-user list tests something of each user's whole window: its totals, or that
    it had none of an event. Its page's keys cannot be read from the newest rows alone (query/deep.py)."""
    return reads_user_totals(scope) or any(f.user_had_none for f in scope.filters)


def _render_per_user(b: SqlBuilder, plan: ListPlan) -> str:
    """Each user's latest matching row, newest first, read in two steps:
    1. the page of users, by each one's latest matching time: one GROUP BY on the user key, over the sessions
       table alone when no filter tests a column the relation adds (a user's totals), else the relation;
    2. the relation confined to the page users' rows at those times (a user's totals computed for the page's
       users alone), where the filters pick the matching rows, and of two matching at the same time, the
       least session id.
    (Ranking every matching row of the whole relation, twice, took 250 ms of a 280 ms users page at 1M
    sessions on DuckDB.) The WHERE text, placeholders included, is reused as is: it holds on the relation
    and on `sessions`."""
    scope, d = plan.scope, b.dialect
    resource = scope.resource
    time_col = resource.time_column
    on_relation = reads_user_totals(scope)
    # the page's users, and their rows at its times, lie at or after `keys_from`; their totals count the window
    # (a filter on those totals, or a "had none", needs the whole window: query/deep.py sets no keys_from then)
    assert not (reads_whole_window(scope) and plan.keys_from), "this filter needs each user's whole window"
    where = render_where(b, plan.keys_scope())
    # the order keys after the time are the user's own (the same on all its rows): any row's value is its value
    keys = [f"{_expr(d, 'key_any', x=k)} AS page_k{i}" for i, k in enumerate(resource.order_key)]
    page_users = (
        f"SELECT user_key AS page_user, {_expr(d, 'key_max', x=time_col)} AS page_time, {', '.join(keys)} "
        f"FROM {render_from(b, scope) if on_relation else 'sessions'} WHERE {where} GROUP BY user_key"
    )
    if plan.limit is not None:
        page_order = ", ".join(["page_time DESC", *(f"page_k{i} ASC" for i in range(len(keys)))])
        page_users += (
            f" ORDER BY {page_order} LIMIT {b.bind(plan.limit, 'Int64')} OFFSET {b.bind(plan.offset, 'Int64')}"
        )
    users = "SELECT page_user FROM page_users"
    rows = [_expr(d, "in_page", c=f"(user_key, {time_col})", q="SELECT page_user, page_time FROM page_users")]
    if d.late_rows:
        # DuckDB tests a row-value IN after reading the row's columns: the page's times and user keys first
        # let it skip the other row groups and rows (an IN on the times, not a BETWEEN on their min and max:
        # see relations.page_times). (ClickHouse, which reads the other columns of the kept rows only, runs
        # the page again for each subquery that names it: one is quicker there.)
        rows[:0] = [
            page_times(b, time_col, "page_users"),
            _expr(d, "in_page", c="user_key", q=users),
        ]
    theirs = PER_USER[resource.relation](b, scope.app_id, scope.window, " AND ".join(rows), users)
    if any(f.user_had_none for f in scope.filters):
        # a "had none" is the user's, over the window: every page user passed it, so their rows are not
        # tested again (a second scan of the window's sessions: 329 -> 193 ms, a users page at 1M sessions)
        keys = plan.keys_scope()
        where = render_where(b, replace(keys, filters=tuple(f for f in keys.filters if not f.user_had_none)))
    first = _expr(d, "row_number", p="user_key", o="session_id ASC")
    sql = (
        f"WITH page_users AS ({page_users}) SELECT {', '.join(plan.columns)} FROM (SELECT *, {first} AS row_of_user "
        f"FROM {theirs} WHERE {where}) AS latest WHERE row_of_user = 1"
    )
    return sql + (f" ORDER BY {_order(resource)}" if plan.limit is not None else "")


def render_session_events(
    dialect: Dialect, app_id: str, session_ids: list[str], lo: Any, hi: Any
) -> tuple[str, list[Any] | dict[str, Any]]:
    """The events of the given sessions (export), in each session's order. `lo`/`hi` are the sessions' upload
    times: an event's uploaded_at is its session's, so the range only narrows the scan."""
    b = SqlBuilder(dialect)
    d = dialect
    ids = _expr(d, "unnest_strings", v=b.bind(session_ids, "Array(String)"))
    where = " AND ".join(
        [
            f"app_id = {b.bind(app_id, 'String')}",
            window_condition(b, "uploaded_at", Window(lo, hi)),
            _expr(d, "in_subquery", c="session_id", q=ids),
        ]
    )
    sql = f"SELECT session_id, name, screen, time_sec, props FROM events WHERE {where} ORDER BY session_id, seq"
    return sql, b.params()
