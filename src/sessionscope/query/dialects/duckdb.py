"""DuckDB SQL: numbered parameters ($1, $2, ...) so a template may repeat a placeholder."""

from __future__ import annotations

from . import Dialect

_CASTS = {"Array(String)": "::VARCHAR[]", "DateTime": "::TIMESTAMP", "String": "::VARCHAR"}


def _placeholder(index: int, kind: str) -> str:
    return f"${index}{_CASTS.get(kind, '')}"


DUCKDB = Dialect(
    name="duckdb",
    placeholder=_placeholder,
    operators={
        "equal": "{c} = {v}",
        "not_equal": "({c} IS NULL OR {c} <> {v})",
        "greater": "{c} > {v}",
        "less": "{c} < {v}",
        "greater_or_equal": "{c} >= {v}",
        "less_or_equal": "{c} <= {v}",
        "contains": "contains({c}, {v})",
        "not_contains": "({c} IS NULL OR NOT contains({c}, {v}))",
        "in": "list_contains({v}, {c})",
        "not_in": "({c} IS NULL OR NOT list_contains({v}, {c}))",
        "has_any": "list_has_any({c}, {v})",
        "not_has_any": "NOT coalesce(list_has_any({c}, {v}), false)",
    },
    expressions={
        "map_get": "{m}[{k}]",
        "to_number": "TRY_CAST({x} AS DOUBLE)",
        "between": "{c} BETWEEN {lo} AND {hi}",
        "in_subquery": "{c} IN ({q})",
        "not_in_subquery": "{c} NOT IN ({q})",
    },
)
