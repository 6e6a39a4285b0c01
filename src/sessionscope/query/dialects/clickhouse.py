"""ClickHouse SQL (server and chDB): named, typed parameters `{p1:String}`, bound by the server.

Every key DuckDB supplies, with the same meaning. Where ClickHouse differs by default, the template says so:

- a Map lookup of a missing key returns '' (not NULL), so `map_get` uses `arrayElementOrNull`, keeping the
  missing-value rule (a missing property never matches a positive operator);
- aggregates over no rows return 0 or nan for non-Nullable input, so every numeric aggregate is `-OrNull`
  (an average over no rows is null, as on DuckDB); float sums are exact (see `_SUM`), so that a query
  gives the same answer every time it runs;
- `x IN (...)` never matches a NULL `x`; the top-N test compares 1-tuples, which IN compares NULL-safely, and
  runs as GLOBAL IN so that on a Distributed table the top values are computed once, over every shard;
- time buckets are DateTime64 (Arrow carries DateTime as a bare UInt32); the stores run with
  `enable_extended_results_for_datetime_functions = 1` so that buckets before 1970 do not clamp.
"""

from __future__ import annotations

from . import Dialect

# The renderer's parameter types -> ClickHouse types. Times are DateTime64 in UTC (range 1900-2299, like the
# query layer's accepted dates); lists may carry NULL (a kept "missing" group in comparison queries).
_TYPES = {
    "DateTime": "DateTime64(0, 'UTC')",
    "Array(String)": "Array(Nullable(String))",
    "Array(Bool)": "Array(Nullable(Bool))",
}


_SPACE = " \\t\\n\\r\\f\\v"  # trimBoth's characters, as a ClickHouse string literal spells them


def _placeholder(index: int, kind: str) -> str:
    return f"{{p{index}:{_TYPES.get(kind, kind)}}}"


# Float sums and averages, deterministic and correctly rounded. ClickHouse adds floats in whatever order its
# threads merge, so the same query could differ in the last bits from one run to the next (its sumKahan too).
# Each value is instead cut into integers by exact operations (multiplying by a power of two and taking a
# float's integer part off are exact): its whole part, the first 60 bits of its fraction and the next 30.
# These are summed as integers, exact in any order, and the total, one Int256 in units of 2^-90, is rounded
# once to the nearest float through its decimal text (ClickHouse's own wide-integer and Decimal -> Float64
# conversions can be a unit in the last place off; the text parse is not). The result is the exactly rounded
# sum, as Python's math.fsum gives, for every value of 2^-38 (3.6e-12) or more in magnitude; bits of smaller
# values below 2^-90 are dropped. Decimal256 sums of the values, the previous way, were a unit off in one
# group of ten and lost values under 1e-30. Values of 1e18 or more, inf and nan, and sums an Int64 might not
# hold (largest |value| x count >= 9e18) fall back to the plain float sum. The cost, on chDB at 1M sessions:
# 1.07-1.14x a plain float sum on a month's totals, series and group-bys; a one-day request 13.0 ms against
# 10.6 ms (docs/scale-out.md). Only float inputs reach these: the renderer gives integers and booleans the
# *_int forms (metrics.numeric_form).
# One aggregate tells whether to fall back: the largest |value|, inf for any value out of range (nan too).
_PLAIN = "NOT (maxOrNull(if(NOT (abs({x}) < 1e18), inf, abs({x}))) * count({x}) < 9e18)"


def _exact() -> str:
    """The exact sum of {x}: its whole parts, the first 60 bits of its fractions (Int128: 2^60 a value) and
    the next 30, each summed as integers, the total in units of 2^-90, rounded once through its text.
    NULL, inf and nan are taken as 0 here (NULL adds nothing; the plain sum answers when there is an inf or
    a nan, as for values of 1e18 or more), so the arithmetic runs on a plain Float64 column with no NULL map
    and no checked conversions. A float's remainder by 1 (`%`, the sign of the value) is its exact fraction,
    and names the value once: the expression stays short, and quick to plan."""
    value = "if(isFinite({x}), assumeNotNull({x}), 0.)"
    scaled = f"(({value} % 1) * {2**60})"
    whole = f"toInt64(trunc({value}))"
    high = f"toInt128(toInt64(trunc({scaled})))"
    low = f"toInt64(trunc(({scaled} % 1) * {2**30}))"
    units = (
        f"toInt256(sum({whole})) * toInt256('{2**90}') + toInt256(sum({high})) * toInt256('{2**30}') "
        f"+ toInt256(sum({low}))"
    )
    return f"(toFloat64(toString({units})) / {float(2**90)!r})"


_EXACT = _exact()
# a sum or an average over no values (none matched, or all NULL) is NULL, as the plain ones give
_SUM = f"CAST(if({_PLAIN}, sumOrNull({{x}}), if(count({{x}}) = 0, NULL, {_EXACT})), toTypeName(toNullable({{x}})))"
_AVG = f"if({_PLAIN}, avgOrNull({{x}}), if(count({{x}}) = 0, NULL, {_EXACT} / count({{x}})))"


def _bucket(fn: str) -> str:
    return f"toDateTime64({fn}({{c}}), 0, 'UTC')"


CLICKHOUSE = Dialect(
    name="clickhouse",
    placeholder=_placeholder,
    named_params=True,
    operators={
        "equal": "{c} = {v}",
        "not_equal": "({c} IS NULL OR {c} <> {v})",
        "greater": "{c} > {v}",
        "less": "{c} < {v}",
        "greater_or_equal": "{c} >= {v}",
        "less_or_equal": "{c} <= {v}",
        "contains": "position({c}, {v}) > 0",  # case-sensitive, byte-wise
        "not_contains": "({c} IS NULL OR position({c}, {v}) = 0)",
        "in": "has({v}, {c})",  # has() never matches a NULL column value (the values hold no NULL)
        "not_in": "({c} IS NULL OR NOT has({v}, {c}))",
        "has_any": "hasAny({c}, {v})",
        "not_has_any": "NOT hasAny({c}, {v})",  # lists are Array(String), never NULL (empty when absent)
    },
    expressions={
        "map_get": "arrayElementOrNull({m}, {k})",  # NULL for a missing key ({m}[{k}] would give '')
        # as DuckDB's: plain decimal notation (query/validate.py's pattern) between whitespace, a finite value;
        # toFloat64OrNull reads nothing else but "nan" and "inf" (tests/unit/test_numeric_text.py)
        "to_number": (
            f"if(isFinite(toFloat64OrZero(trimBoth({{x}}, '{_SPACE}'))), toFloat64OrNull(trimBoth({{x}}, '{_SPACE}')), NULL)"
        ),
        "between": "{c} BETWEEN {lo} AND {hi}",
        "in_subquery": "{c} IN ({q})",
        "not_in_subquery": "{c} NOT IN ({q})",
        # a page chosen over the whole relation: on a Distributed table, computed once over every shard
        "in_page": "{c} GLOBAL IN ({q})",
        # a page's keys per group of a GROUP BY: its latest time (never NULL, in a group never empty: the plain
        # max, not maxOrNull), and a value every row of the group shares (any row's: no string comparisons)
        "key_max": "max({x})",
        "key_any": "any({x})",
        "bucket_day": _bucket("toStartOfDay"),
        "bucket_week": _bucket("toMonday"),  # Monday 00:00, as DuckDB's ISO weeks
        "bucket_month": _bucket("toStartOfMonth"),
        "add_seconds": "addSeconds({c}, {s})",
        "bool_to_number": "toInt64({x})",
        "agg_count": "count()",
        "agg_count_distinct": "uniqExact({x})",  # exact, never a sketch
        "agg_count_distinct_if": "uniqExactIf({x}, {cond})",
        "agg_count_if": "countIf({cond})",
        "agg_sum": _SUM,
        "agg_avg": _AVG,
        # integer and boolean inputs: the plain aggregates are exact (and ~15% faster on a series)
        "agg_sum_int": "sumOrNull({x})",
        "agg_avg_int": "avgOrNull({x})",
        "agg_min": "minOrNull({x})",
        "agg_max": "maxOrNull({x})",
        # exact, linear interpolation at q * (n - 1), as DuckDB's quantile_cont
        "agg_quantile": "quantileExactInclusiveOrNull({q})({x})",
        # {r}: the rank, the resource's primary count over {t}
        "top_values": "SELECT {g} AS v FROM {t} GROUP BY {g} ORDER BY {r} DESC, {g} ASC NULLS LAST LIMIT {n}",
        "unnest_strings": "SELECT arrayJoin({v}) AS v",
        "unnest_bools": "SELECT arrayJoin({v}) AS v",
        "in_top": "(tuple({x}) GLOBAL IN (SELECT tuple(v) FROM {t}))",
        "first_in_partition": "(row_number() OVER (PARTITION BY {p}) = 1)",
        "row_number": "row_number() OVER (PARTITION BY {p} ORDER BY {o})",
    },
)
