"""SQL dialects as lookup tables: one module per engine, no inheritance, no if-chains on engine names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str
    # (1-based index, parameter type) -> placeholder text; types: String, Float64, Int64, Bool, DateTime, Array(String)
    placeholder: Callable[[int, str], str]
    # filter operator -> template over {c} (column expression) and {v} (bound value)
    operators: dict[str, str]
    # expression templates: map_get {m} {k}; to_number {x}; has_any {c} {v}; empty_list
    expressions: dict[str, str]
    # whether parameters are passed as a list (positional) or a dict (named p1, p2, ...)
    named_params: bool = False
    # whether a page is cut on its sort keys first even when they must be read from the whole relation, and
    # only its rows then read whole (query/render.py, relations.KEYS_FIRST; and the users page's time range):
    # DuckDB reads every listed column of every matching row before it keeps the newest; ClickHouse reads the
    # other columns of the kept rows only already (lazy materialization), and the extra scan slows it
    late_rows: bool = False
    # the most rows the engine keeps in a heap for ORDER BY ... LIMIT whatever it expects: past it (and past a
    # share of the rows it expects), it sorts every matching row instead, so a deeper page reads its keys from
    # the newest rows that hold it (query/deep.py); None: the engine needs no such help
    top_n_rows: int | None = None


from .clickhouse import CLICKHOUSE  # noqa: E402
from .duckdb import DUCKDB  # noqa: E402

__all__ = ["CLICKHOUSE", "DUCKDB", "Dialect"]
