"""Analytics requests: `group_by`, `aggregation`, `comparison` x catalogue -> a spec, then a plan.

Errors name the parameter and the JSON path (`"param": "group_by", "path": "[0].attribute"`) and list
what is allowed, like the filter validator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ..catalog import Attribute, Resource
from ..catalog.types import COUNT, JSON
from ..errors import bad_request, shown
from .metrics import (
    COUNTS,
    DEFAULTS,
    NUMERIC_INPUT_TYPES,
    NUMERIC_OPS,
    PRIMARY_COUNT,
    USER_MEASURES,
    output_key,
)
from .plan import Scope
from .spec import Filter, Window
from .validate import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    _json_array,
    custom_property_name,
    integer,
    parse_filters,
    parse_flag,
    parse_int,
)
from .window import EARLIEST, SECOND

MAX_GROUP_BY = 2
DEFAULT_MAX_GROUPS = 50
MAX_GROUPS = 1000
MAX_AGGREGATIONS = 50


@dataclass(frozen=True)
class GroupBy:
    """One level of `group_by`: the attribute (and custom property), how many values it keeps."""

    index: int
    attribute: Attribute
    property_name: str | None
    max_groups: int

    @property
    def key(self) -> str:
        """The row key its values appear under (`user_custom_property_<name>` for custom properties)."""
        if self.property_name is not None:
            return f"{self.attribute.name}_{self.property_name}"
        return self.attribute.name

    @property
    def bucket(self) -> str | None:
        return self.attribute.bucket


@dataclass(frozen=True)
class Metric:
    """One output metric: its response key and how to compute it.

    `source` is "count" (a count metric: `template` over `column`, rows limited by `condition`),
    "session" (a numeric operator over a session column or custom property) or "user" (a numeric
    operator over a per-user total, see metrics.USER_MEASURES).
    """

    key: str
    attribute: str
    operator: str
    source: str
    template: str
    type: str
    column: str | None = None
    property_name: str | None = None
    quantile: float | None = None
    condition: str | None = None

    @property
    def is_count(self) -> bool:
        return self.source == "count"


@dataclass(frozen=True)
class AnalyticsSpec:
    resource: Resource
    window: Window
    filters: tuple[Filter, ...]  # every filter as sent, date_range included (dashboard links echo them)
    group_by: tuple[GroupBy, ...]
    metrics: tuple[Metric, ...]  # response order: the primary count first
    order_by: str  # the metric rows are ordered by: the first one requested (the primary count by default)
    comparison: bool
    page: int
    page_size: int
    now: datetime

    @property
    def scope_filters(self) -> tuple[Filter, ...]:
        """The filters the SQL applies (date_range filters are already the window)."""
        return tuple(f for f in self.filters if not f.attribute.is_window)


# -- group_by -----------------------------------------------------------------------------------------------


def _groupable(resource: Resource) -> str:
    return ", ".join(a.name for a in resource.attributes.values() if a.groupable)


def parse_group_by(resource: Resource, params: Mapping[str, Any]) -> tuple[GroupBy, ...]:
    items = _json_array(params, "group_by")
    if len(items) > MAX_GROUP_BY:
        raise bad_request(
            f"group_by: at most {MAX_GROUP_BY} levels, got {len(items)}",
            param="group_by",
            path=f"[{MAX_GROUP_BY}]",
        )
    levels: list[GroupBy] = []
    for i, item in enumerate(items):
        name = item.get("attribute")
        if not isinstance(name, str) or not name:
            raise bad_request(
                f"group_by[{i}].attribute is required; groupable attributes are: {_groupable(resource)}",
                param="group_by",
                path=f"[{i}].attribute",
            )
        attr = resource.attribute(name)
        if attr is None or not attr.groupable:
            what = "unknown attribute" if attr is None else "cannot group by"
            raise bad_request(
                f"group_by[{i}].attribute: {what} {name!r}; groupable attributes are: {_groupable(resource)}",
                param="group_by",
                path=f"[{i}].attribute",
            )
        property_name = None
        if attr.needs_property_name:
            property_name = custom_property_name(item, f"group_by[{i}]", name, "group by", "group_by", f"[{i}].property_name")
        max_groups = _max_groups(item.get("max_group_number"), i)
        level = GroupBy(i, attr, property_name, max_groups)
        if any(other.key == level.key for other in levels):
            raise bad_request(
                f"group_by[{i}]: already grouped by {level.key}; group by two different attributes",
                param="group_by",
                path=f"[{i}].attribute",
            )
        levels.append(level)
    return tuple(levels)


def _max_groups(raw: Any, i: int) -> int:
    if raw is None or raw == "":
        return DEFAULT_MAX_GROUPS
    try:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError
        value = integer(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not 1 <= value <= MAX_GROUPS:
        raise bad_request(
            f"group_by[{i}].max_group_number must be an integer from 1 to {MAX_GROUPS} (default "
            f"{DEFAULT_MAX_GROUPS}), got {shown(raw)}",
            param="group_by",
            path=f"[{i}].max_group_number",
        )
    return value


# -- aggregation --------------------------------------------------------------------------------------------


def _aggregatable(resource: Resource) -> str:
    names = [a.name for a in resource.attributes.values() if a.aggregatable or a.type == COUNT]
    return ", ".join(dict.fromkeys(names + list(USER_MEASURES)))


def _numeric_ops() -> str:
    return ", ".join(NUMERIC_OPS)


def _count_metric(resource: Resource, name: str) -> Metric:
    count = COUNTS[name]
    if count.per_session_row is not None and resource.relation == "sessions":
        count = count.per_session_row
    return Metric(name, name, "", "count", count.template, COUNT, count.column, condition=count.condition)


def _numeric_metric(
    attr_name: str, op_name: str, attr_type: str, source: str, column: str | None, pn: str | None
) -> Metric:
    op = NUMERIC_OPS[op_name]
    key = output_key(attr_name, op_name, pn)
    return Metric(key, attr_name, op_name, source, op.template, attr_type, column, pn, op.quantile)


def parse_metric(resource: Resource, item: dict[str, Any], i: int) -> Metric:
    """Validate one `aggregation` entry."""
    where = f"aggregation[{i}]"
    name = item.get("attribute")
    if not isinstance(name, str) or not name:
        raise bad_request(
            f"{where}.attribute is required; aggregatable attributes are: {_aggregatable(resource)}",
            param="aggregation",
            path=f"[{i}].attribute",
        )
    attr = resource.attribute(name)
    measure = USER_MEASURES.get(name)
    op_name = item.get("operator", "" if attr is not None and attr.type == COUNT else None)
    if op_name is None:
        op_name = ""
    if not isinstance(op_name, str):
        raise bad_request(
            f'{where}.operator must be a string: "" for counts, or one of {_numeric_ops()}',
            param="aggregation",
            path=f"[{i}].operator",
        )
    if attr is not None and attr.type == COUNT:
        if op_name != "" or name not in COUNTS:
            raise bad_request(
                f'{where}.operator: {name} is a count; use "operator": ""',
                param="aggregation",
                path=f"[{i}].operator",
            )
        return _count_metric(resource, name)
    if measure is None and (attr is None or not attr.aggregatable or attr.type not in NUMERIC_INPUT_TYPES):
        what = "unknown attribute" if attr is None else "cannot aggregate"
        raise bad_request(
            f"{where}.attribute: {what} {name!r}; aggregatable attributes are: {_aggregatable(resource)}",
            param="aggregation",
            path=f"[{i}].attribute",
        )
    if op_name not in NUMERIC_OPS:
        if op_name == "":
            message = f"{where}.operator is required; allowed for {name}: {_numeric_ops()}"
        else:
            message = f"{where}.operator: {op_name!r} does not apply to {name}; allowed: {_numeric_ops()}"
        raise bad_request(
            message,
            param="aggregation",
            path=f"[{i}].operator",
        )
    if measure is not None:
        return _numeric_metric(name, op_name, measure.type, "user", measure.column, None)
    assert attr is not None
    property_name = None
    if attr.type == JSON:
        property_name = custom_property_name(item, where, name, "aggregate", "aggregation", f"[{i}].property_name")
    return _numeric_metric(name, op_name, attr.type, "session", attr.column, property_name)


def parse_aggregation(resource: Resource, params: Mapping[str, Any]) -> tuple[tuple[Metric, ...], str]:
    """The response's metrics (primary count first, no duplicates) and the metric rows are ordered by."""
    items = _json_array(params, "aggregation")
    if len(items) > MAX_AGGREGATIONS:
        raise bad_request(f"aggregation: at most {MAX_AGGREGATIONS} entries", param="aggregation")
    if items:
        requested = [parse_metric(resource, item, i) for i, item in enumerate(items)]
    else:
        requested = [
            parse_metric(resource, {"attribute": a, "operator": op}, i)
            for i, (a, op) in enumerate(DEFAULTS[resource.name])
        ]
    primary = _count_metric(resource, PRIMARY_COUNT[resource.name])
    metrics: dict[str, Metric] = {primary.key: primary}
    for m in requested:
        metrics.setdefault(m.key, m)
    return tuple(metrics.values()), requested[0].key


def parse_analytics(resource: Resource, params: Mapping[str, Any], now: datetime) -> AnalyticsSpec:
    """Validate an analytics request (filters, group_by, aggregation, comparison, page, page_size)."""
    window, filters = parse_filters(resource, params, now)
    group_by = parse_group_by(resource, params)
    metrics, order_by = parse_aggregation(resource, params)
    page = parse_int(params, "page", 1, 1, 10_000_000)
    page_size = parse_int(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    return AnalyticsSpec(
        resource,
        window,
        filters,
        group_by,
        metrics,
        order_by,
        parse_flag(params, "comparison"),
        page,
        page_size,
        now,
    )


# -- plan ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalyticsPlan:
    """What one analytics query computes.

    `kept`: per group level, None to keep the top `max_groups` values computed over the matching
    sessions, or the explicit values to keep (the comparison query reuses the current window's groups).
    `shift_seconds`: time buckets are taken of the upload time plus this, so that the previous window's
    sessions land in the current window's buckets.
    """

    scope: Scope
    group_by: tuple[GroupBy, ...]
    metrics: tuple[Metric, ...]
    kept: tuple[tuple[Any, ...] | None, ...]
    shift_seconds: int = 0


def plan_analytics(app_id: str, spec: AnalyticsSpec) -> AnalyticsPlan:
    scope = Scope(app_id, spec.resource, spec.window, spec.scope_filters)
    return AnalyticsPlan(scope, spec.group_by, spec.metrics, tuple(None for _ in spec.group_by))


def window_length(window: Window) -> timedelta:
    """Bounds are inclusive to the second, so [lo, hi] lasts hi - lo + 1 s."""
    return window.hi - window.lo + timedelta(seconds=1)


def previous_window(window: Window) -> Window:
    """The window of equal length just before (excluded days move with it), cut at the earliest date a
    filter takes (1900-01-01): no session is older, and ClickHouse reads no year before 1000 (a comparison
    over 1970-2999 reached back to the year 940)."""
    length = window_length(window)
    excluded = tuple((lo - length, hi - length) for lo, hi in window.excluded)
    return Window(max(window.lo - length, EARLIEST), max(window.hi - length, EARLIEST - SECOND), excluded)


def plan_previous(plan: AnalyticsPlan, kept: tuple[tuple[Any, ...] | None, ...]) -> AnalyticsPlan:
    """The same query over the previous window, folding to the given kept values per level."""
    window = plan.scope.window
    scope = replace(plan.scope, window=previous_window(window))
    return replace(plan, scope=scope, kept=kept, shift_seconds=int(window_length(window).total_seconds()))


__all__ = [
    "AnalyticsPlan",
    "AnalyticsSpec",
    "GroupBy",
    "Metric",
    "parse_analytics",
    "plan_analytics",
    "plan_previous",
    "previous_window",
]
