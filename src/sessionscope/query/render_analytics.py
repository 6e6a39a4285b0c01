"""Analytics plan + dialect -> one SQL query and its bound parameters, for every resource.

The query reads the resource's base relation (query/relations.py: sessions, events joined with their
session, or sessions carrying their user's totals), as common table expressions:

- `matched`: the matching rows (tenant, window, filters), with each group level's raw value `g<i>`, the
  columns the counts read (`Resource.carry`) and each
  row-level metric's input `x<j>`;
- `top<i>`: per non-time group level, the values it keeps: the top N by the resource's primary count over
  the matching rows (ties by value, missing last), or the given values (comparison);
- `keyed`: each session's group key per level, `k<i>` (the value, NULL for "others") and `o<i>` (true for
  "others"), so that a missing value and "others" stay distinct groups (`t<i>`: the value is kept);
- `user_totals` / `keyed_users` (only for per-user metrics): each user's totals over the window (taken from
  the relation when it carries them, as the users relation does), counted once per group the user is in;
- `keyed_once` (only when the relation repeats a metric's rows): a session's figures once per group among
  its events, a user's custom property once per group among its sessions (`_counted_once_by`);
- the final SELECT: one row per group, `k0, o0, k1, o1, m0, m1, ...` in the plan's metric order.

Every engine-specific fragment comes from the dialect's `expressions` table.
"""

from __future__ import annotations

from typing import Any

from ..catalog import Resource
from ..catalog.types import BOOL, JSON
from .analytics import AnalyticsPlan, GroupBy, Metric
from .dialects import Dialect
from .metrics import numeric_form, user_total
from .plan import Scope
from .relations import EVENT_COLUMNS, window_condition
from .render import SqlBuilder, property_expr, render_from, render_where


def _expr(d: Dialect, name: str, **kw: str) -> str:
    return d.expressions[name].format(**kw)


def _group_expr(b: SqlBuilder, g: GroupBy, time_expr: str) -> str:
    if g.bucket is not None:
        return _expr(b.dialect, f"bucket_{g.bucket}", c=time_expr)
    column = g.attribute.column or ""
    if g.attribute.type == JSON:
        return property_expr(b, column, g.attribute, g.property_name)
    return column


def _metric_input(b: SqlBuilder, m: Metric, resource: Resource) -> str:
    column = m.column or ""
    if m.type == JSON:
        attr = resource.attribute(m.attribute)
        assert attr is not None
        value = property_expr(b, column, attr, m.property_name)
        return _expr(b.dialect, "to_number", x=value)
    if m.type == BOOL:
        return _expr(b.dialect, "bool_to_number", x=column)
    return column


def _aggregate(d: Dialect, m: Metric, x: str) -> str:
    if m.is_count:
        return _expr(d, m.template, x=m.column or "", cond=m.condition or "")
    if m.quantile is not None:
        return _expr(d, m.template, x=x, q=repr(m.quantile))
    return _expr(d, numeric_form(m.template, m.type), x=x)


def _top(b: SqlBuilder, plan: AnalyticsPlan, i: int, g: GroupBy, source: str, rank: str) -> str:
    kept = plan.kept[i]
    if kept is None:
        return _expr(b.dialect, "top_values", g=f"g{i}", t=source, n=b.bind(g.max_groups, "Int64"), r=rank)
    if g.attribute.type == BOOL:
        return _expr(b.dialect, "unnest_bools", v=b.bind(list(kept), "Array(Bool)"))
    return _expr(b.dialect, "unnest_strings", v=b.bind(list(kept), "Array(String)"))


def _rank(d: Dialect, plan: AnalyticsPlan) -> str:
    """The primary count (the metric listed first), as the ranking of group values."""
    return _aggregate(d, plan.metrics[0], "")


def render_analytics(dialect: Dialect, plan: AnalyticsPlan) -> tuple[str, list[Any] | dict[str, Any]]:
    """One query returning, per group, the keys (k<i>, o<i>) then the metrics in plan order."""
    b = SqlBuilder(dialect)
    scope = plan.scope
    resource = scope.resource
    relation = render_from(b, scope)
    where = render_where(b, scope)
    time_expr = resource.time_column
    if plan.shift_seconds and any(g.bucket is not None for g in plan.group_by):
        time_expr = _expr(dialect, "add_seconds", c=time_expr, s=b.bind(plan.shift_seconds, "Int64"))

    # a per-user resource's relation carries each user's totals: its user metrics read them row by row
    row_metrics = [
        j for j, m in enumerate(plan.metrics) if m.source == "session" or (m.source == "user" and resource.per_user)
    ]
    inputs_sql = {
        j: (plan.metrics[j].attribute if plan.metrics[j].source == "user" else _metric_input(b, plan.metrics[j], resource))
        for j in row_metrics
    }
    once = {j: key for j, m in enumerate(plan.metrics) if (key := _counted_once_by(resource, m)) is not None}
    carry = list(resource.carry)
    if "user_key" in once.values():  # a user's latest matching row gives the value it counts once
        carry += [f"{resource.time_column} AS row_time", "session_id AS row_sid"]
    carried = ", ".join(carry)
    groups = [_group_expr(b, g, time_expr) for g in plan.group_by]
    matched = [f"{expr} AS g{i}" for i, expr in enumerate(groups)]
    matched.append(carried)
    matched += [f"{inputs_sql[j]} AS x{j}" for j in row_metrics]
    ctes = [f"matched AS (SELECT {', '.join(matched)} FROM {relation} WHERE {where})"]

    keys: list[str] = []  # what the rows are grouped by
    selected: list[str] = []  # the key columns of the answer: k<i>, o<i> per level
    keyed: list[str] = []
    flags: list[str] = []  # t<i>: the value is one the level keeps (computed once per row)
    rank = _rank(dialect, plan)
    for i, g in enumerate(plan.group_by):
        if g.bucket is not None:
            # time buckets are never folded into "others": a constant flag, not a grouping key (grouping by
            # it too cost ClickHouse about a tenth of a day series)
            keys.append(f"k{i}")
            selected += [f"k{i}", f"false AS o{i}"]
            keyed.append(f"g{i} AS k{i}")
            continue
        keys += [f"k{i}", f"o{i}"]
        selected += [f"k{i}", f"o{i}"]
        # ranked on a narrow scan of its own (the relation and WHERE text, placeholders included, are reused
        # as is), so that `matched` is read once and never materialised
        values = f"(SELECT {groups[i]} AS g{i}, {carried} FROM {relation} WHERE {where})"
        ctes.append(f"top{i} AS ({_top(b, plan, i, g, values, rank)})")
        flags.append(f"{_expr(dialect, 'in_top', x=f'g{i}', t=f'top{i}')} AS t{i}")
        keyed += [f"CASE WHEN t{i} THEN g{i} END AS k{i}", f"NOT t{i} AS o{i}"]
    keyed += [c.rsplit(" AS ", 1)[-1] for c in carry]
    keyed += [f"x{j}" for j in row_metrics]
    flagged = f"(SELECT *, {', '.join(flags)} FROM matched)" if flags else "matched"
    ctes.append(f"keyed AS (SELECT {', '.join(keyed)} FROM {flagged})")

    source = "keyed"
    inputs = {j: f"x{j}" for j in row_metrics}
    user_metrics = [(j, m) for j, m in enumerate(plan.metrics) if m.source == "user"]
    if user_metrics:
        source = "keyed_users"
        first = _expr(dialect, "first_in_partition", p=", ".join([*keys, "user_key"]))
        if resource.per_user:
            ctes.append(f"keyed_users AS (SELECT keyed.*, {first} AS first_of_user FROM keyed)")
            inputs |= {j: f"CASE WHEN first_of_user THEN x{j} END" for j, _ in user_metrics}
        else:
            ctes += _user_ctes(b, scope, first, user_metrics)
            inputs |= _user_inputs(plan)

    if once:
        flags = []
        for key in sorted(set(once.values())):
            order = "row_time DESC, row_sid ASC" if key == "user_key" else key
            row_number = _expr(dialect, "row_number", p=", ".join([*keys, key]), o=order)
            flags.append(f"({row_number}) = 1 AS once_{key}")
        ctes.append(f"keyed_once AS (SELECT {source}.*, {', '.join(flags)} FROM {source})")
        source = "keyed_once"
        inputs |= {j: f"CASE WHEN once_{key} THEN x{j} END" for j, key in once.items()}

    aggregates = [f"{_aggregate(dialect, m, inputs.get(j, ''))} AS m{j}" for j, m in enumerate(plan.metrics)]
    sql = "WITH " + ",\n".join(ctes) + f"\nSELECT {', '.join(selected + aggregates)} FROM {source}"
    if keys:
        sql += f" GROUP BY {', '.join(keys)}"
    return sql, b.params()


def _counted_once_by(resource: Resource, m: Metric) -> str | None:
    """The rows a session-level metric counts once per group, when the relation repeats them: each session
    once among its events (a session's duration is not summed per event), each user once among its
    sessions (a user's custom property: the value of the user's latest matching session). None: every row."""
    if m.source != "session":
        return None
    if resource.per_user:
        return "user_key"
    if resource.relation == "events" and m.column not in EVENT_COLUMNS.values():
        return "session_id"
    return None


def _user_ctes(b: SqlBuilder, scope: Scope, first: str, user_metrics: list[tuple[int, Metric]]) -> list[str]:
    """Per-user totals over the window (whatever the other filters), from the sessions table whatever the
    resource; one flag marks a user's first row per group."""
    d = b.dialect
    columns: dict[str | None, str] = {}
    for _, m in user_metrics:
        if m.column not in columns:
            columns[m.column] = f"{user_total(d.expressions, m.column, m.type)} AS t{len(columns)}"
    in_window = window_condition(b, "uploaded_at", scope.window)
    user = "user_key"
    totals = (
        f"user_totals AS (SELECT {user} AS uid, {', '.join(columns.values())} "
        f"FROM sessions WHERE app_id = {b.bind(scope.app_id, 'String')} AND {in_window} GROUP BY {user})"
    )
    totals_cols = ", ".join(f"user_totals.t{i}" for i in range(len(columns)))
    keyed_users = (
        f"keyed_users AS (SELECT keyed.*, {first} AS first_of_user, {totals_cols} "
        f"FROM keyed LEFT JOIN user_totals ON keyed.{user} = user_totals.uid)"
    )
    return [totals, keyed_users]


def _user_inputs(plan: AnalyticsPlan) -> dict[int, str]:
    """Metric index -> its per-user input: the user's total on the user's first row in each group, else NULL."""
    index: dict[str | None, int] = {}
    inputs = {}
    for j, m in enumerate(plan.metrics):
        if m.source == "user":
            i = index.setdefault(m.column, len(index))
            inputs[j] = f"CASE WHEN first_of_user THEN t{i} END"
    return inputs
