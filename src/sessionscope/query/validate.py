"""Raw request parameters x catalogue -> a spec, or an ApiError pointing at the JSON path."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson

from ..catalog import OPERATORS, Attribute, Operator, Resource, operators_for
from ..catalog.types import BOOL, DATETIME, EVENT, FLOAT, INTEGER, JSON, LIST
from ..errors import bad_request, json_kind, shown
from .spec import Filter, ListSpec, Window
from .window import condition_range, intersect, window_for

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
MAX_FILTERS = 100
MAX_LIST_VALUES = 1000

# True == 1 and False == 0 in Python, so these sets also accept the integers 1 and 0.
_TRUE = {True, "true", "True", "TRUE", "1"}
_FALSE = {False, "false", "False", "FALSE", "0"}


def _json_array(params: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    raw = params.get(name)
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise bad_request(f"{name} is not valid JSON ({exc.args[0]}); send a JSON array of objects", param=name) from None
    if raw is None:  # `null` means absent, in a query string as in a JSON body
        return []
    if not isinstance(raw, list):
        raise bad_request(f"{name} must be a JSON array of objects, got {json_kind(raw)}", param=name)
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise bad_request(f"{name}[{i}] must be an object, got {json_kind(item)}", param=name, path=f"[{i}]")
    return raw


_INTEGER = re.compile(r"-?[0-9]+")  # a sign only so that "-1" is told the allowed range
# A number in plain decimal notation ("10", "-2.5", ".5", "1e3"), as a filter's value is read; a stored text is
# read as a number by the same rule, whitespace aside, where its value is finite (the dialects' to_number)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def integer(raw: Any) -> int:
    """int(raw), but a string must be plain decimal digits: int() would also read "1_0", "１０", " 10", "+10"
    and other spellings no client means (ValueError)."""
    if isinstance(raw, str) and not _INTEGER.fullmatch(raw):
        raise ValueError(raw)
    return int(raw)


def parse_int(params: Mapping[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        if isinstance(raw, bool) or isinstance(raw, float):
            raise ValueError
        value = integer(raw)
    except (TypeError, ValueError):
        raise bad_request(f"{name} must be an integer from {lo} to {hi}, got {shown(raw)}", param=name) from None
    if not lo <= value <= hi:
        raise bad_request(f"{name} must be an integer from {lo} to {hi}, got {value}", param=name)
    return value


_FLAGS = {"1": True, "true": True, "0": False, "false": False}


def parse_flag(params: Mapping[str, Any], name: str) -> bool:
    """A yes/no parameter (`comparison`, `with_video`): 1 or true, 0 or false (any case), absent or empty for
    no; anything else is a 400 rather than a silent no."""
    raw = params.get(name)
    if raw is None or raw == "":
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in _FLAGS:
        return _FLAGS[raw.strip().lower()]
    raise bad_request(f"{name} must be 1 or true (0 or false, or absent, for no), got {shown(raw)}", param=name)


def _number(value: Any, where: str, param: str, path: str) -> float | int:
    if isinstance(value, bool):
        raise bad_request(f"{where}: expected a number, got a boolean", param=param, path=path)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str):
        text = value.strip()
        # plain decimal notation only: float() would also read "1_0", "１０", "inf" and "nan"
        parsed = float(text) if _DECIMAL.fullmatch(text) else math.nan
        if math.isfinite(parsed):
            return int(parsed) if parsed.is_integer() and "." not in value and "e" not in value.lower() else parsed
    raise bad_request(f"{where}: expected a number or a numeric string like \"10\", got {shown(value)}", param=param, path=path)


def _string(value: Any, where: str, param: str, path: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise bad_request(f"{where}: expected a string, got {json_kind(value)}", param=param, path=path)


def _normalise(attr: Attribute, op: Operator, value: Any, where: str, param: str, path: str) -> Any:
    """The filter value in the form the SQL renderers bind, or a 400 naming what is allowed."""
    shape = op.value
    if attr.type == DATETIME:
        return value  # the window module parses dates
    if attr.type == BOOL:
        if isinstance(value, bool | int | str) and value in _TRUE:
            return True
        if isinstance(value, bool | int | str) and value in _FALSE:
            return False
        raise bad_request(f"{where}: expected true or false, got {shown(value)}", param=param, path=path)
    if shape == "number" or (shape == "scalar" and attr.type in (INTEGER, FLOAT)):
        return _number(value, where, param, path)
    if shape == "string_list":
        if not isinstance(value, list):
            raise bad_request(f"{where}: operator {op.name} takes an array of strings, got {json_kind(value)}", param=param, path=path)
        if len(value) > MAX_LIST_VALUES:
            raise bad_request(f"{where}: at most {MAX_LIST_VALUES} values", param=param, path=path)
        return [_alias(attr, _string(v, f"{where}[{i}]", param, f"{path}[{i}]"), where, param, path) for i, v in enumerate(value)]
    # string / scalar on string-like attributes (JSON properties compare as text unless numeric)
    if attr.type == JSON and shape == "scalar" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if attr.type == JSON and isinstance(value, bool):
        return "true" if value else "false"
    return _alias(attr, _string(value, where, param, path), where, param, path)


def _alias(attr: Attribute, value: str, where: str, param: str, path: str) -> str:
    if not attr.aliases:
        return value
    canon = attr.aliases.get(value.lower()) if isinstance(value, str) else None
    if canon is None:
        allowed = ", ".join(sorted({repr(k) for k in attr.aliases}))
        raise bad_request(f"{where}: {value!r} is not a value of {attr.name}; allowed: {allowed}", param=param, path=path)
    return canon


def custom_property_name(item: Mapping[str, Any], where: str, attribute: str, purpose: str, param: str, path: str) -> str:
    """The `property_name` a custom-property attribute needs: a non-empty string, or a 400 saying which."""
    name = item.get("property_name")
    if isinstance(name, str) and name:
        return name
    if name is None or name == "":
        message = f"{where}.property_name is required for {attribute}: the custom property to {purpose}"
    else:
        message = f"{where}.property_name must be a string (the custom property's name), got {json_kind(name)}"
    raise bad_request(message, param=param, path=path)


def parse_filter(resource: Resource, item: dict[str, Any], i: int, param: str = "filters") -> Filter:
    """Validate one filter object against the catalogue."""
    where = f"{param}[{i}]"
    name = item.get("attribute")
    if not isinstance(name, str) or not name:
        raise bad_request(f"{where}.attribute is required: the name of a {resource.name} attribute", param=param, path=f"[{i}].attribute")
    attr = resource.attribute(name)
    if attr is None or attr.type in ("Count", "DateTime String"):
        filterable = ", ".join(a.name for a in resource.attributes.values() if a.type not in ("Count", "DateTime String"))
        raise bad_request(f"{where}.attribute: unknown attribute {name!r}; filterable attributes are: {filterable}", param=param, path=f"[{i}].attribute")
    op_name = item.get("operator")
    allowed = attr.operators
    op = OPERATORS.get(op_name) if isinstance(op_name, str) else None
    if op is None or op.name not in allowed:
        if op_name is None:
            message = f"{where}.operator is required; allowed for {name}: {', '.join(allowed)}"
        else:
            message = f"{where}.operator: {op_name!r} does not apply to {name} ({attr.type}); allowed: {', '.join(allowed)}"
        raise bad_request(
            message,
            param=param,
            path=f"[{i}].operator",
        )
    prop_name = None
    if attr.needs_property_name:
        prop_name = custom_property_name(item, where, name, "test", param, f"[{i}].property_name")
    if "value" not in item:
        raise bad_request(f"{where}.value is required", param=param, path=f"[{i}].value")
    value = _normalise(attr, op, item["value"], f"{where}.value", param, f"[{i}].value")
    event_property = None
    prop = item.get("property")
    if prop is not None:
        if attr.type != EVENT and attr.name != "event_name":  # (user_event_name: a user row's link names it so)
            raise bad_request(f"{where}.property applies only to event_name", param=param, path=f"[{i}].property")
        if attr.type != EVENT and op.negative:
            # on /v2/event the condition tests the event row itself; "not such an event" has no row to test
            raise bad_request(
                f"{where}.operator: with a property condition, event_name takes equal or in, not {op.name}",
                param=param,
                path=f"[{i}].operator",
            )
        event_property = _event_property(resource, prop, i, param)
    return Filter(i, attr, op, value, prop_name, event_property, raw=item)


def _event_property(resource: Resource, prop: Any, i: int, param: str) -> Filter:
    where = f"{param}[{i}].property"
    if not isinstance(prop, dict) or not isinstance(prop.get("name"), str) or not prop.get("name"):
        raise bad_request(f'{where} must be {{"name": ..., "operator": ..., "value": ...}}', param=param, path=f"[{i}].property")
    attr = resource.attribute("event_custom_property")
    assert attr is not None
    op_name = prop.get("operator")
    op = OPERATORS.get(op_name) if isinstance(op_name, str) else None
    if op is None or JSON not in op.types:
        raise bad_request(
            f"{where}.operator: {op_name!r} is not allowed; allowed: {', '.join(operators_for(JSON))}",
            param=param,
            path=f"[{i}].property.operator",
        )
    if "value" not in prop:
        raise bad_request(f"{where}.value is required", param=param, path=f"[{i}].property.value")
    value = _normalise(attr, op, prop["value"], f"{where}.value", param, f"[{i}].property.value")
    return Filter(i, attr, op, value, prop["name"], raw=prop)


def parse_filters(resource: Resource, params: Mapping[str, Any], now: datetime) -> tuple[Window, tuple[Filter, ...]]:
    items = _json_array(params, "filters")
    if len(items) > MAX_FILTERS:
        raise bad_request(f"filters: at most {MAX_FILTERS} filters", param="filters")
    windows: list[Window] = []
    filters: list[Filter] = []
    for i, item in enumerate(items):
        f = parse_filter(resource, item, i)
        if f.attribute.is_window:
            windows.append(window_for(f.operator.name, f.value, now, param="filters", path=f"[{i}].value"))
        elif f.attribute.type == DATETIME:
            # a condition on a time column: its value becomes the range it accepts
            accepted = condition_range(f.operator.name, f.value, now, param="filters", path=f"[{i}].value")
            f = replace(f, value=accepted)
        filters.append(f)
    return intersect(windows, now), tuple(filters)


def parse_list(resource: Resource, params: Mapping[str, Any], now: datetime) -> ListSpec:
    """Validate a list request (filters, page, page_size)."""
    window, filters = parse_filters(resource, params, now)
    page = parse_int(params, "page", 1, 1, 10_000_000)
    page_size = parse_int(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    non_window = tuple(f for f in filters if not f.attribute.is_window)
    return ListSpec(resource, window, non_window, page, page_size, now)


__all__ = ["parse_filter", "parse_filters", "parse_flag", "parse_int", "parse_list", "LIST"]
