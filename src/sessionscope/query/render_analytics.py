"""Analytics plan + dialect -> one SQL query and its bound parameters.

The query, as common table expressions:

- `matched`: the matching sessions (tenant, window, filters), with each group level's raw value `g<i>`
  and each session-level metric's input `x<j>`;
- `top<i>`: per non-time group level, the values it keeps: the top N by session count over the matching
  sessions (ties by value, missing last), or the given values (comparison);
- `keyed`: each session's group key per level, `k<i>` (the value, NULL for "others") and `o<i>` (true for
  "others"), so that a missing value and "others" stay distinct groups (`t<i>`: the value is kept);
- `user_totals` / `keyed_users` (only for per-user metrics): each user's totals over the window, counted
  once per group the user has sessions in;
- the final SELECT: one row per group, `k0, o0, k1, o1, m0, m1, ...` in the plan's metric order.

Every engine-specific fragment comes from the dialect's `expressions` table.
"""

from __future__ import annotations

from typing import Any

from ..catalog.types import BOOL, JSON
from .analytics import AnalyticsPlan, GroupBy, Metric
from .dialects import Dialect
from .plan import Scope
from .render import SqlBuilder, render_where


def _expr(d: Dialect, name: str, **kw: str) -> str:
    return d.expressions[name].format(**kw)


def _group_expr(b: SqlBuilder, g: GroupBy, time_expr: str) -> str:
    if g.bucket is not None:
        return _expr(b.dialect, f"bucket_{g.bucket}", c=time_expr)
    column = g.attribute.column or ""
    if g.attribute.type == JSON:
        return _expr(b.dialect, "map_get", m=column, k=b.bind(g.property_name, "String"))
    return column


def _metric_input(b: SqlBuilder, m: Metric) -> str:
    column = m.column or ""
    if m.type == JSON:
        value = _expr(b.dialect, "map_get", m=column, k=b.bind(m.property_name, "String"))
        return _expr(b.dialect, "to_number", x=value)
    if m.type == BOOL:
        return _expr(b.dialect, "bool_to_number", x=column)
    return column


def _aggregate(d: Dialect, m: Metric, x: str) -> str:
    if m.is_count:
        return _expr(d, m.template, x=m.column or "", cond=m.condition or "")
    if m.quantile is not None:
        return _expr(d, m.template, x=x, q=repr(m.quantile))
    return _expr(d, m.template, x=x)


def _top(b: SqlBuilder, plan: AnalyticsPlan, i: int, g: GroupBy, source: str) -> str:
    kept = plan.kept[i]
    if kept is None:
        return _expr(b.dialect, "top_values", g=f"g{i}", t=source, n=b.bind(g.max_groups, "Int64"))
    if g.attribute.type == BOOL:
        return _expr(b.dialect, "unnest_bools", v=b.bind(list(kept), "Array(Bool)"))
    return _expr(b.dialect, "unnest_strings", v=b.bind(list(kept), "Array(String)"))


def render_analytics(dialect: Dialect, plan: AnalyticsPlan) -> tuple[str, list[Any] | dict[str, Any]]:
    """One query returning, per group, the keys (k<i>, o<i>) then the metrics in plan order."""
    b = SqlBuilder(dialect)
    scope = plan.scope
    table = scope.resource.table
    where = render_where(b, scope)
    time_expr = scope.resource.time_column
    if plan.shift_seconds and any(g.bucket is not None for g in plan.group_by):
        time_expr = _expr(dialect, "add_seconds", c=time_expr, s=b.bind(plan.shift_seconds, "Int64"))

    groups = [_group_expr(b, g, time_expr) for g in plan.group_by]
    matched = [f"{expr} AS g{i}" for i, expr in enumerate(groups)]
    matched += ["uxcamuserid", "session_number"]
    matched += [f"{_metric_input(b, m)} AS x{j}" for j, m in enumerate(plan.metrics) if m.source == "session"]
    ctes = [f"matched AS (SELECT {', '.join(matched)} FROM {table} WHERE {where})"]

    keys: list[str] = []
    keyed: list[str] = []
    flags: list[str] = []  # t<i>: the value is one the level keeps (computed once per row)
    for i, g in enumerate(plan.group_by):
        keys += [f"k{i}", f"o{i}"]
        if g.bucket is not None:  # time buckets are never folded into "others"
            keyed += [f"g{i} AS k{i}", f"false AS o{i}"]
            continue
        # ranked on a narrow scan of its own (the WHERE text, placeholders included, is reused as is), so
        # that `matched` is read once and never materialised
        values = f"(SELECT {groups[i]} AS g{i} FROM {table} WHERE {where})"
        ctes.append(f"top{i} AS ({_top(b, plan, i, g, values)})")
        flags.append(f"{_expr(dialect, 'in_top', x=f'g{i}', t=f'top{i}')} AS t{i}")
        keyed += [f"CASE WHEN t{i} THEN g{i} END AS k{i}", f"NOT t{i} AS o{i}"]
    keyed += ["uxcamuserid", "session_number"]
    keyed += [f"x{j}" for j, m in enumerate(plan.metrics) if m.source == "session"]
    flagged = f"(SELECT *, {', '.join(flags)} FROM matched)" if flags else "matched"
    ctes.append(f"keyed AS (SELECT {', '.join(keyed)} FROM {flagged})")

    source = "keyed"
    user_metrics = [(j, m) for j, m in enumerate(plan.metrics) if m.source == "user"]
    if user_metrics:
        source = "keyed_users"
        ctes += _user_ctes(b, scope, keys, user_metrics)

    inputs = {j: f"x{j}" for j, m in enumerate(plan.metrics) if m.source == "session"} | _user_inputs(plan)
    aggregates = [f"{_aggregate(dialect, m, inputs.get(j, ''))} AS m{j}" for j, m in enumerate(plan.metrics)]
    sql = "WITH " + ",\n".join(ctes) + f"\nSELECT {', '.join(keys + aggregates)} FROM {source}"
    if keys:
        sql += f" GROUP BY {', '.join(keys)}"
    return sql, b.params()


def _user_ctes(
    b: SqlBuilder, scope: Scope, keys: list[str], user_metrics: list[tuple[int, Metric]]
) -> list[str]:
    """Per-user totals over the window (whatever the other filters); one flag marks a user's first row per group."""
    d = b.dialect
    columns: dict[str | None, str] = {}
    for _, m in user_metrics:
        if m.column not in columns:
            total = _expr(d, "agg_count") if m.column is None else _expr(d, "agg_sum", x=m.column)
            columns[m.column] = f"{total} AS t{len(columns)}"
    window_only = Scope(scope.app_id, scope.resource, scope.window, ())
    totals = (
        f"user_totals AS (SELECT uxcamuserid AS uid, {', '.join(columns.values())} "
        f"FROM {scope.resource.table} WHERE {render_where(b, window_only)} GROUP BY uxcamuserid)"
    )
    first = _expr(d, "first_in_partition", p=", ".join([*keys, "uxcamuserid"]))
    totals_cols = ", ".join(f"user_totals.t{i}" for i in range(len(columns)))
    keyed_users = (
        f"keyed_users AS (SELECT keyed.*, {first} AS first_of_user, {totals_cols} "
        f"FROM keyed LEFT JOIN user_totals ON keyed.uxcamuserid = user_totals.uid)"
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
