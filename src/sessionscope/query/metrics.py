"""The metric table: what an analytics row can report, one row per aggregation operator, as data.

A metric is an operator applied to an input (a session column, a custom property, or a per-user total).
Each operator names the dialect expression template that computes it, so a new engine only supplies
templates; the validator, the renderer and the docs all read this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..catalog.types import BOOL, COUNT, FLOAT, INTEGER, JSON


@dataclass(frozen=True)
class MetricOp:
    """An aggregation operator: its dialect template (over {x}; quantiles also {q}) and its meaning."""

    name: str
    template: str
    description: str
    quantile: float | None = None


# Integer inputs (and booleans, as 0/1) keep exact integer sums; the plain forms are for floats, which each
# dialect adds so that an answer does not change with the order its engine's threads happened to add the
# values in (DuckDB: compensated sums; ClickHouse: exact integer digits; see query/dialects).
INTEGER_FORMS = {"agg_sum": "agg_sum_int", "agg_avg": "agg_avg_int"}


def numeric_form(template: str, kind: str) -> str:
    """The dialect template of a sum or average over values of this catalog type."""
    return INTEGER_FORMS.get(template, template) if kind in (INTEGER, BOOL) else template


def user_total(expressions: Mapping[str, str], column: str | None, kind: str) -> str:
    """A user's total of a measure over its rows in a dialect: a count of sessions when `column` is None."""
    if column is None:
        return expressions["agg_count"]
    return expressions[numeric_form("agg_sum", kind)].format(x=column)


# Numeric operators, in the order the error messages list them. Percentiles are exact and use linear
# interpolation between the two nearest ranks (numpy's default, "inclusive"): position q * (n - 1).
NUMERIC_OPS: dict[str, MetricOp] = {
    op.name: op
    for op in [
        MetricOp("sum", "agg_sum", "sum of the values"),
        MetricOp("avg", "agg_avg", "arithmetic mean of the values"),
        MetricOp("min", "agg_min", "smallest value"),
        MetricOp("max", "agg_max", "largest value"),
        MetricOp("p50", "agg_quantile", "median (exact, linear interpolation)", 0.5),
        MetricOp("p90", "agg_quantile", "90th percentile (exact, linear interpolation)", 0.9),
        MetricOp("p95", "agg_quantile", "95th percentile (exact, linear interpolation)", 0.95),
        MetricOp("p99", "agg_quantile", "99th percentile (exact, linear interpolation)", 0.99),
    ]
}


@dataclass(frozen=True)
class CountMetric:
    """A count (operator ""): the template and, where it needs one, the column it counts and a condition."""

    name: str
    template: str
    column: str | None = None
    condition: str | None = None  # SQL over catalogue columns limiting the rows counted (count_if templates)
    # the same count when each relation row is one session (the session resource): cheaper, same answer
    per_session_row: CountMetric | None = None


COUNTS: dict[str, CountMetric] = {
    m.name: m
    for m in [
        CountMetric("session_count", "agg_count"),
        # users are counted by their key (one per user: an integer on DuckDB, the id's SipHash128 on ClickHouse;
        # store/duckdb.py, store/ch_common.py), not by their id text
        CountMetric("session_unique_user_count", "agg_count_distinct", "user_key"),
        # distinct users whose first ever session (session_number = 1) is among the matching rows. The store
        # numbers each user's sessions 1, 2, ... at write time (row_number over the user's sessions;
        # uxcamuserid is never NULL), so exactly one session per user has number 1: over session rows,
        # counting those sessions counts the users, with no distinct hash table (at 10M sessions and ~1M
        # users that table is most of a totals query). Event rows repeat a session, so they count distinct.
        CountMetric(
            "session_new_users_count", "agg_count_distinct_if", "user_key", "session_number = 1",
            per_session_row=CountMetric("session_new_users_count", "agg_count_if", None, "session_number = 1"),
        ),
        CountMetric("user_count", "agg_count_distinct", "user_key"),
        CountMetric("event_count", "agg_count"),
        CountMetric("event_unique_user_count", "agg_count_distinct", "user_key"),
        CountMetric("event_unique_session_count", "agg_count_distinct", "session_id"),
    ]
}


@dataclass(frozen=True)
class UserMeasure:
    """A per-user total usable in `aggregation` on the session endpoint (reference: users attribute table).

    Its value for a user is the total of `column` (a count of sessions when `column` is None) over that
    user's sessions in the query window, whatever the other filters. In a group it is aggregated over the
    distinct users who have at least one matching session in the group, each user counted once.
    """

    name: str
    type: str
    column: str | None
    description: str


USER_MEASURES: dict[str, UserMeasure] = {
    m.name: m
    for m in [
        UserMeasure("user_session_count", INTEGER, None, "Sessions of the user in the window"),
        UserMeasure("user_gesture_count", INTEGER, "total_gesture", "Gestures of the user in the window"),
        UserMeasure(
            "user_rage_gesture_count",
            INTEGER,
            "rage_gesture_count",
            "Rage gestures of the user in the window",
        ),
        UserMeasure(
            "user_responsive_gesture_count",
            INTEGER,
            "responsive_gesture_count",
            "Responsive gestures of the user",
        ),
        UserMeasure(
            "user_unresponsive_gesture_count",
            INTEGER,
            "unresponsive_gesture_count",
            "Unresponsive gestures of the user",
        ),
        UserMeasure(
            "user_session_screen_count", INTEGER, "total_screen", "Screens the user visited in the window"
        ),
        UserMeasure("user_session_duration", FLOAT, "duration_sec", "Seconds the user spent in the window"),
        UserMeasure("user_event_count", INTEGER, "event_count", "Events of the user in the window"),
    ]
}

# (attribute, operator) of the default metrics per resource, in the response's order (SPEC §6.1).
DEFAULTS: dict[str, tuple[tuple[str, str], ...]] = {
    "session": (
        ("session_count", ""),
        ("session_unique_user_count", ""),
        ("session_new_users_count", ""),
        ("session_gesture_count", "avg"),
        ("session_rage_gesture_count", "avg"),
        ("session_responsive_gesture_count", "avg"),
        ("session_unresponsive_gesture_count", "avg"),
        ("session_duration", "avg"),
        ("session_unique_screen_count", "avg"),
    ),
    "user": (
        ("user_count", ""),
        ("session_new_users_count", ""),
        ("user_session_count", "avg"),
        ("user_session_duration", "avg"),
        ("user_rage_gesture_count", "avg"),
        ("user_event_count", "avg"),
        ("user_session_screen_count", "avg"),
    ),
    "event": (
        ("event_count", ""),
        ("event_unique_user_count", ""),
        ("event_unique_session_count", ""),
    ),
}

# The count every response carries first, per resource.
PRIMARY_COUNT: dict[str, str] = {"session": "session_count", "user": "user_count", "event": "event_count"}

# Attribute types a numeric operator applies to (Bool String counts true as 1 and false as 0).
NUMERIC_INPUT_TYPES = frozenset({INTEGER, FLOAT, BOOL, JSON})


def output_key(attribute: str, operator: str, property_name: str | None = None) -> str:
    """The response key of a metric: the count's name, `{op}_{attribute}`, or `{op}_{attribute}_{property}`."""
    if operator == "":
        return attribute
    if property_name is not None:
        return f"{operator}_{attribute}_{property_name}"
    return f"{operator}_{attribute}"


def is_count(attribute_type: str) -> bool:
    return attribute_type == COUNT
