"""`dashboard_link`: the dashboard URL of exactly the sessions an analytics row counts, and its parser.

Format (the reference's, `reference/uxcam-v2-captures.json`): `{public_url}/app/{appid}/sessions/list/1?`
then one `name=JSON` parameter per condition, in this order: the row's group values, the query window,
then the request's filters as sent:

    device_model={"o":"in","v":["SM-C7100"], "tb": "session"}
    user_custom_property={"o":"in","property_name":"age_group","v":["60-69"], "tb": "session"}
    device_platform={"o":"equal","v":"1", "tb": "session"}
    session_uploadedon={"o":"between","v":["2022-12-26","2023-01-01"], "tb": "session"}
    date_range={"o": "between_dates", "v": {"lower": "2022-12-31T10:51:33Z", "upper": "2023-01-30T10:51:33Z"}, "tb": "session"}
    event_name={"o":"in","v":["Add to cart"],"p":{"name":"price","operator":"greater","value":10}, "tb": "event"}

As in the reference, group values are percent-encoded (`"v":["31%20-%2040"]`) while filter values keep
their text (`"v":["UI Freeze"]`) except `%`, `&`, `#`, `+` and control characters; either way the query
string splits unambiguously on `&` and each value decodes with one `unquote`.

Group values become filters of the API's filter language, so the dashboard can re-run them:
- a value: `in` with that one value (`device_platform`: `equal` with its code, "1" android, "2" ios;
  a Bool String attribute: `equal`);
- a missing value (the `null` group): `not_contains ""` (true exactly when the attribute is missing);
  `device_platform`: `not_in` every platform; a Bool String attribute: `not_equal true` and `not_equal false`;
- "others": `not_in` the values the level kept (plus `contains ""` when the missing value was kept);
  `device_platform`: `in` the platforms not kept when the missing value was kept; a Bool String attribute:
  `not_equal` each kept value (or `equal` the remaining one when the missing value was kept);
- a time bucket: `session_uploadedon` `between` its first and last day (parsed back as a `date_range`
  `between_dates`, a date-only upper bound meaning the end of that day).
"""

from __future__ import annotations

import json
from calendar import monthrange
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote, unquote

from .catalog import SESSIONS, Attribute, Resource
from .catalog.types import BOOL, EVENT
from .catalog.users import user_level
from .errors import bad_request
from .query.spec import Filter, Window

# Characters percent-encoded inside JSON strings: those that would end or split a query parameter.
_ESCAPE = {ord(c): f"%{ord(c):02X}" for c in "%&#+"} | {c: f"%{c:02X}" for c in range(0x20)} | {0x7F: "%7F"}
_TIME = "%Y-%m-%dT%H:%M:%SZ"
# bucket parameter name (ours and the reference's day form), for session and event links
BUCKET_PARAM = "session_uploadedon"
_BUCKET_PARAMS = (BUCKET_PARAM, "event_uploadedon")
_DAY_PARAMS = ("session_uploadedon_day", "event_uploadedon_day")


@dataclass(frozen=True)
class LinkGroup:
    """One group level of an analytics row, as its link needs it."""

    attribute: Attribute
    property_name: str | None
    value: Any  # the group value (None: missing); for time buckets the bucket's first instant
    other: bool = False
    kept: tuple[Any, ...] = ()  # the values this level kept (for "others")


# -- encoding -----------------------------------------------------------------------------------------------


def _str(text: str, encode: bool = False) -> str:
    body = json.dumps(text, ensure_ascii=False)[1:-1]
    return '"' + (quote(body, safe="/") if encode else body.translate(_ESCAPE)) + '"'


def _json(value: Any, sep: str = ", ", colon: str = ": ", encode: bool = False) -> str:
    """JSON text with the reference's spacing; strings escaped where the URL needs it (`encode`: fully
    percent-encoded, as the reference writes group values)."""
    if isinstance(value, str):
        return _str(value, encode)
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + sep.join(_json(v, sep, colon, encode) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + sep.join(f"{_str(str(k))}{colon}{_json(v, sep, colon, encode)}" for k, v in value.items())
            + "}"
        )
    return _str(str(value), encode)


def _param(
    name: str,
    op: str,
    value: Any,
    *,
    property_name: str | None = None,
    p: Any = None,
    tb: str = "session",
    encode: bool = False,
) -> str:
    pn = f',"property_name":{_str(property_name)}' if property_name is not None else ""
    extra = f',"p":{_json(p, ",", ":")}' if p is not None else ""
    return f'{name}={{"o":"{op}"{pn},"v":{_json(value, encode=encode)}{extra}, "tb": "{tb}"}}'


def _window_param(window: Window, tb: str = "session") -> str:
    lower, upper = window.lo.strftime(_TIME), window.hi.strftime(_TIME)
    return f'date_range={{"o": "between_dates", "v": {{"lower": "{lower}", "upper": "{upper}"}}, "tb": "{tb}"}}'


def bucket_days(unit: str, start: datetime) -> tuple[date, date]:
    """The first and last day of the time bucket that starts at `start`."""
    first = start.date()
    if unit == "week":
        return first, first + timedelta(days=6)
    if unit == "month":
        return first, first.replace(day=monthrange(first.year, first.month)[1])
    return first, first


def _code(attr: Attribute, value: str) -> str:
    """A value's code for attributes users write in several spellings (device_platform: android -> "1")."""
    codes = [k for k, canon in attr.aliases.items() if canon == value and k.isdigit()]
    return codes[0] if codes else value


def _group_params(g: LinkGroup, resource: Resource = SESSIONS) -> list[str]:
    attr = g.attribute
    tb = resource.link_table
    if attr.bucket is not None:
        first, last = bucket_days(attr.bucket, g.value)
        return [f'{resource.bucket_param}={{"o":"between","v":["{first}","{last}"], "tb": "{tb}"}}']
    return _value_params(g, partial(_param, tb=tb))


def _value_params(g: LinkGroup, _param: Callable[..., str]) -> list[str]:
    """A group value as filter conditions (`_param` writes one, with the link's "tb")."""
    attr, pn = g.attribute, g.property_name
    name = attr.name
    kept = [v for v in g.kept if v is not None]
    kept_missing = None in g.kept
    if attr.aliases:
        every = sorted(set(attr.aliases.values()))
        if g.other and kept_missing:
            return [_param(name, "in", [_code(attr, v) for v in every if v not in kept])]
        if g.other:
            return [_param(name, "not_in", [_code(attr, v) for v in kept])]
        if g.value is None:
            return [_param(name, "not_in", [_code(attr, v) for v in every])]
        return [_param(name, "equal", _code(attr, g.value))]
    if attr.type == BOOL:
        if g.other:
            remaining = [v for v in (False, True) if v not in kept]
            if kept_missing:
                # "present and not kept": exact when one value remains; with none kept it is not expressible
                return [_param(name, "equal", remaining[0])] if len(remaining) == 1 else []
            return [_param(name, "not_equal", v) for v in kept]
        if g.value is None:
            return [_param(name, "not_equal", True), _param(name, "not_equal", False)]
        return [_param(name, "equal", g.value)]
    if g.other:
        params = [_param(name, "not_in", kept, property_name=pn, encode=True)]
        if kept_missing:
            params.append(_param(name, "contains", "", property_name=pn))
        return params
    if g.value is None:
        return [_param(name, "not_contains", "", property_name=pn)]
    return [_param(name, "in", [g.value], property_name=pn, encode=True)]


def _filter_param(f: Filter, resource: Resource = SESSIONS) -> str:
    attr = f.attribute
    name = attr.name
    if f.user_had_none:  # a user's "had none": the sessions of users reads it so
        name, tb = user_level(attr.name), "user"
    elif attr.link_table is not None:
        tb = attr.link_table
    elif attr.type == EVENT or attr.event_column is not None:
        tb = "event"
    else:
        tb = resource.link_table
    p = None
    if f.event_property is not None:
        prop = f.event_property
        p = {"name": prop.property_name, "operator": prop.operator.name, "value": prop.value}
    return _param(name, f.operator.name, f.raw.get("value", f.value), property_name=f.property_name, p=p, tb=tb)


def build_dashboard_link(
    public_url: str,
    appid: str,
    window: Window,
    filters: Sequence[Filter],
    groups: Sequence[LinkGroup] = (),
    resource: Resource = SESSIONS,
) -> str:
    """The dashboard list of the rows one analytics row counts (sessions; for events, the events list, as the
    reference links them; for users, the sessions list, as the reference does)."""
    params = [p for g in groups for p in _group_params(g, resource)]
    params.append(_window_param(window, resource.link_table))
    params.extend(_filter_param(f, resource) for f in filters)
    return f"{public_url.rstrip('/')}/app/{appid}/{resource.link_path}/list/1?" + "&".join(params)


# -- parsing ------------------------------------------------------------------------------------------------


def _to_filter(name: str, cond: dict[str, Any], buckets_apart: bool = False) -> dict[str, Any]:
    op, value = cond.get("o"), cond.get("v")
    # a session time bucket kept apart from the window (`buckets_apart`), or read as one
    bucket = BUCKET_PARAM if buckets_apart and name.startswith(BUCKET_PARAM) else "date_range"
    if name in _BUCKET_PARAMS and op == "between" and isinstance(value, list) and len(value) == 2:
        return {
            "attribute": bucket,
            "operator": "between_dates",
            "value": {"lower": value[0], "upper": value[1]},
        }
    if name in _DAY_PARAMS and op == "in" and isinstance(value, list) and len(value) == 1:
        return {"attribute": bucket, "operator": "on", "value": value[0]}
    f: dict[str, Any] = {"attribute": name, "operator": op, "value": value}
    if "property_name" in cond:
        f["property_name"] = cond["property_name"]
    if isinstance(cond.get("p"), dict):
        f["property"] = cond["p"]
    return f


def filters_from_pairs(
    pairs: Iterable[tuple[str, str]], strict: bool = False, buckets_apart: bool = False
) -> list[dict[str, Any]]:
    """Decoded (name, value) query pairs -> filters; pairs that are not link conditions are skipped.
    `strict`: a value that opens a JSON object but is not a condition (a link cut short or mangled on its
    way) is a 400 naming it, rather than a condition silently dropped. `buckets_apart`: a session time
    bucket is a `session_uploadedon` condition (the dashboard reads it so for the sessions of users), not a
    `date_range`."""
    filters = []
    for name, text in pairs:
        try:
            cond = json.loads(text)
        except ValueError:
            cond = None
        if isinstance(cond, dict) and isinstance(cond.get("o"), str) and "v" in cond:
            filters.append(_to_filter(name, cond, buckets_apart))
        elif strict and text.lstrip().startswith("{"):
            shown = text if len(text) <= 80 else text[:77] + "..."
            raise bad_request(
                f"the link's condition {name}={shown} cannot be read (cut short or altered?); a condition is "
                'JSON like {"o": "in", "v": ["value"]}',
                param=name,
            )
    return filters


def parse_dashboard_link(url: str, strict: bool = False) -> list[dict[str, Any]]:
    """A dashboard link (or its query string) -> the filters it stands for, in the API's filter format.
    The link's query starts after its first `?`; a text with a `=` before that is a query string already
    (filter values keep a `?` as it is: `"v":"search?q=a"`)."""
    head, sep, rest = url.partition("?")
    return parse_query(rest if sep and "=" not in head else url, strict)


def parse_query(query: str, strict: bool = False, buckets_apart: bool = False) -> list[dict[str, Any]]:
    """A dashboard link's query string (a page's, as the request carries it) -> its filters."""
    query = query.split("#", 1)[0]
    pairs = []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name:
            pairs.append((unquote(name), unquote(value)))
    return filters_from_pairs(pairs, strict, buckets_apart)


__all__ = ["LinkGroup", "bucket_days", "build_dashboard_link", "filters_from_pairs", "parse_dashboard_link", "parse_query"]
