"""Plan + dialect -> SQL text and bound parameters. Identifiers come only from the catalogue;
every user value is a bound parameter."""

from __future__ import annotations

from typing import Any

from ..catalog.types import EVENT, JSON, LIST
from .dialects import Dialect
from .plan import ListPlan, Scope
from .spec import Filter

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


def _condition(b: SqlBuilder, column: str, f: Filter, op_name: str) -> str:
    """One operator applied to a column expression (JSON properties handled here)."""
    d = b.dialect
    attr = f.attribute
    expr = column
    if attr.type == JSON:
        expr = _expr(d, "map_get", m=column, k=b.bind(f.property_name, "String"))
        if op_name in NUMERIC_OPS or isinstance(f.value, int | float) and not isinstance(f.value, bool):
            expr = _expr(d, "to_number", x=expr)
    value = f.value
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


def render_filter(b: SqlBuilder, scope: Scope, f: Filter) -> str:
    attr = f.attribute
    op = f.operator.name
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


def render_where(b: SqlBuilder, scope: Scope) -> str:
    """The WHERE clause: tenant first, then the window, then every filter (all must hold)."""
    d = b.dialect
    parts = [
        f"app_id = {b.bind(scope.app_id, 'String')}",
        _expr(
            d,
            "between",
            c=scope.resource.time_column,
            lo=b.bind(scope.window.lo, "DateTime"),
            hi=b.bind(scope.window.hi, "DateTime"),
        ),
    ]
    for lo, hi in scope.window.excluded:
        between = _expr(d, "between", c=scope.resource.time_column, lo=b.bind(lo, "DateTime"), hi=b.bind(hi, "DateTime"))
        parts.append(f"NOT ({between})")
    parts.extend(render_filter(b, scope, f) for f in scope.filters)
    return " AND ".join(parts)


def render_list(dialect: Dialect, plan: ListPlan) -> tuple[str, list[Any] | dict[str, Any]]:
    b = SqlBuilder(dialect)
    where = render_where(b, plan.scope)
    time_col = plan.scope.resource.time_column
    sql = (
        f"SELECT {', '.join(plan.columns)} FROM {plan.scope.resource.table} WHERE {where} "
        f"ORDER BY {time_col} DESC, session_id ASC "
        f"LIMIT {b.bind(plan.limit, 'Int64')} OFFSET {b.bind(plan.offset, 'Int64')}"
    )
    return sql, b.params()
