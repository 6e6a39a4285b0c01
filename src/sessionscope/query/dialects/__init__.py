"""SQL dialects as lookup tables: one module per engine, no inheritance, no if-chains on engine names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# A number in plain decimal notation ("10", "-2.5", ".5", "1e3"), as a filter's value is read (query.validate)
# and, with surrounding whitespace and a finite value, as a stored text is read where a number is needed
# (custom properties): not "1_000", "0x10", "NaN", "inf" or "Infinity", which one engine or Python read and
# another does not. RE2 syntax (DuckDB, ClickHouse) and Python's alike.
DECIMAL_PATTERN = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"


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
