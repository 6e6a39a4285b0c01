"""DuckDB SQL: numbered parameters ($1, $2, ...) so a template may repeat a placeholder."""

from __future__ import annotations

from . import Dialect

_CASTS = {"Array(String)": "::VARCHAR[]", "DateTime": "::TIMESTAMP", "String": "::VARCHAR"}


def _placeholder(index: int, kind: str) -> str:
    return f"${index}{_CASTS.get(kind, '')}"


DUCKDB = Dialect(
    name="duckdb",
    placeholder=_placeholder,
    # a page of 50 sessions at 1M, one filter: 16.6 -> 7.3 ms; page 100: 123 -> 42 ms (query/render.py)
    late_rows=True,
    # DuckDB 2.0's Top-N optimizer sorts every row once offset + limit > 5,000 and > 0.7% of its row estimate,
    # which for a filtered table (by the filter's distinct values) is often far below the rows it reads: page
    # 100 of sessions in one country at 10M sessions took 157 ms against 8 ms for page 1
    top_n_rows=5000,
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
        # a text in plain decimal notation with a finite value (query/validate.py's pattern, between whitespace): TRY_CAST
        # also reads "1_000", "+-5", "NaN" and "inf" (one infinite value made a group's sum and average null).
        # Refusing those is what the pattern refuses (tests/unit/test_numeric_text.py holds both engines to
        # it over random texts), at half a regular expression's cost (a 1M-session average: 89 ms against 178)
        "to_number": (
            "CASE WHEN isfinite(TRY_CAST({x} AS DOUBLE)) AND NOT contains({x}, '_') AND NOT contains({x}, '+-') "
            "THEN TRY_CAST({x} AS DOUBLE) END"
        ),
        "between": "{c} BETWEEN {lo} AND {hi}",
        "in_subquery": "{c} IN ({q})",
        "not_in_subquery": "{c} NOT IN ({q})",
        "in_page": "{c} IN ({q})",
        "key_max": "max({x})",  # a page's keys per group (see the ClickHouse dialect)
        "key_any": "any_value({x})",
        # analytics (query/render_analytics.py): time buckets, metric aggregates, top-N folding
        "bucket_day": "date_trunc('day', {c})",
        "bucket_week": "date_trunc('week', {c})",  # ISO weeks: Monday 00:00
        "bucket_month": "date_trunc('month', {c})",
        "add_seconds": "({c} + to_seconds({s}))",
        "bool_to_number": "CAST({x} AS INTEGER)",
        "agg_count": "count(*)",
        "agg_count_distinct": "count(DISTINCT {x})",
        "agg_count_distinct_if": "count(DISTINCT {x}) FILTER (WHERE {cond})",
        "agg_count_if": "count(*) FILTER (WHERE {cond})",
        # floats: compensated (Kahan-Babuska) sums. Plain sum/avg of doubles gave a different last digit from
        # one run of the same query to the next (the threads' partial sums meet in any order); these do not
        "agg_sum": "fsum({x})",
        "agg_avg": "favg({x})",
        "agg_sum_int": "sum({x})",
        "agg_avg_int": "avg({x})",
        "agg_min": "min({x})",
        "agg_max": "max({x})",
        "agg_quantile": "quantile_cont({x}, {q})",  # exact, linear interpolation at q * (n - 1)
        # {r}: the rank, the primary count over {t} (count(*), or count(DISTINCT uxcamuserid) for users)
        "top_values": "SELECT {g} AS v FROM {t} GROUP BY {g} ORDER BY {r} DESC, {g} ASC NULLS LAST LIMIT {n}",
        "unnest_strings": "SELECT unnest({v}) AS v",
        "unnest_bools": "SELECT unnest({v}::BOOLEAN[]) AS v",
        "in_top": "(coalesce({x} IN (SELECT v FROM {t} WHERE v IS NOT NULL), false) "
        "OR ({x} IS NULL AND (SELECT count(*) FROM {t} WHERE v IS NULL) > 0))",
        "first_in_partition": "(row_number() OVER (PARTITION BY {p}) = 1)",
        # lists (query/render.py): a per-user resource keeps each user's row numbered 1
        "row_number": "row_number() OVER (PARTITION BY {p} ORDER BY {o})",
    },
)
