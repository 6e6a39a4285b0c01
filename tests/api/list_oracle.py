"""An independent, plain-Python model of `GET /v2/session` over the documents as they were sent.

Written from the contract (SPEC §3–§5, docs/api.md), not from the server: it imports nothing from
`sessionscope`. Given the session documents an app received, the request's filters, and the request's
"now", it answers which sessions the list holds, in which order, what each page looks like, and each
session's `sessionNumber`.

Semantics modelled (see the SPEC for the wording):
- filters are ANDed; a session lacking an attribute (key absent or JSON null) never matches a positive
  operator and always matches a negative one;
- strings: exact, case-sensitive; a number sent for a string attribute means its text (1.5 -> "1.5");
- numbers: the value may be a numeric string;
- bools: true/false, "true"/"false"/"True"/"False", 1/0;
- `device_platform`: 1/"1"/"android" = android, 2/"2"/"ios" = ios;
- `event_name`: positive = had such an event (optionally whose property matches); negative = had none;
- `event_custom_property`: positive = had an event whose property matches; negative = had none that
  matches the positive form;
- custom (JSON) properties: string operators compare the text of the value (true, 10, 1.5); numeric
  operators, and equal/not_equal with a number, compare numerically where the stored value is a JSON
  number (anything else counts as missing);
- `session_screen_list`: has_any / not_has_any;
- the date window of §4.1; order: upload time descending, then sessionId ascending;
- sessionNumber: rank of the session among its user's (user.uxcamuserid) sessions by start time
  (deviceLocalDateTime, else upload time), ties by upload time then sessionId, 1-based.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

MISSING: Any = object()

POSITIVE = {"equal", "in", "contains", "greater", "less", "greater_or_equal", "less_or_equal", "has_any"}
NEGATIVE = {"not_equal", "not_in", "not_contains", "not_has_any"}
NUMERIC_OPS = {"greater", "less", "greater_or_equal", "less_or_equal"}
POSITIVE_OF = {"not_equal": "equal", "not_in": "in", "not_contains": "contains", "not_has_any": "has_any"}

DEFAULT_WINDOW = timedelta(days=30)
END_OF_DAY = timedelta(hours=23, minutes=59, seconds=59)


class OracleError(ValueError):
    """The filter is one the oracle (and the server) must refuse."""


# --------------------------------------------------------------------------------------------------
# Values and time
# --------------------------------------------------------------------------------------------------


def parse_time(value: str) -> datetime:
    """A document or filter timestamp -> naive UTC datetime, to the second."""
    s = value.strip()
    if len(s) == 10:
        return datetime.strptime(s, "%Y-%m-%d")
    s = s.replace(" ", "T", 1)
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.replace(microsecond=0)


def is_date_only(value: str) -> bool:
    return len(value.strip()) == 10


def format_time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def is_number(v: Any) -> bool:
    return (
        isinstance(v, int | float)
        and not isinstance(v, bool)
        and not (isinstance(v, float) and math.isnan(v))
    )


# docs/api.md, Filters: "plain decimal notation" (not 1_000, 0x10, NaN or inf), whitespace aside, finite
_PLAIN_DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*", re.ASCII)


def plain_number(v: Any) -> float | None:
    """The number a value is, by the documented rule (a JSON number, or a text in plain decimal notation),
    else None."""
    if is_number(v):
        return float(v) if math.isfinite(float(v)) else None
    if isinstance(v, str) and _PLAIN_DECIMAL.fullmatch(v) and math.isfinite(float(v)):
        return float(v)
    return None


def to_number(v: Any) -> float:
    number = plain_number(v)
    if number is None:
        raise OracleError(f"not a number: {v!r}")
    return number


def as_text(v: Any) -> str:
    """The text of a JSON scalar as the docs describe it: true, 10, 1.5."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) <= 2**53 else repr(v)  # 5.0 is stored as "5"
    return str(v)


def value_text(v: Any) -> str:
    """A filter value for a string attribute: strings as they are, numbers as their text."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if is_number(v):
        return as_text(v)
    raise OracleError(f"not a string: {v!r}")


def to_bool(v: Any) -> bool:
    if v is True or v in ("true", "True"):
        return True
    if v is False or v in ("false", "False"):
        return False
    if is_number(v) and v in (0, 1):
        return bool(v)
    raise OracleError(f"not a bool: {v!r}")


PLATFORM = {"1": "android", "android": "android", "2": "ios", "ios": "ios"}


def to_platform(v: Any) -> str:
    key = str(int(v)) if is_number(v) and float(v).is_integer() else v
    if not isinstance(key, str) or key not in PLATFORM:
        raise OracleError(f"not a platform: {v!r}")
    return PLATFORM[key]


def _get(doc: dict, *path: str) -> Any:
    cur: Any = doc
    for p in path:
        if not isinstance(cur, dict) or p not in cur or cur[p] is None:
            return MISSING
        cur = cur[p]
    return cur


# --------------------------------------------------------------------------------------------------
# Operator semantics
# --------------------------------------------------------------------------------------------------


def match_string(op: str, stored: Any, value: Any) -> bool:
    if stored is MISSING:
        return op in NEGATIVE
    s = as_text(stored)
    if op in ("equal", "not_equal"):
        hit = s == value_text(value)
        return hit if op == "equal" else not hit
    if op in ("contains", "not_contains"):
        hit = value_text(value) in s
        return hit if op == "contains" else not hit
    if op in ("in", "not_in"):
        if not isinstance(value, list):
            raise OracleError("in/not_in take a list")
        hit = s in {value_text(x) for x in value}
        return hit if op == "in" else not hit
    raise OracleError(f"operator {op} does not apply to strings")


def match_number(op: str, stored: Any, value: Any) -> bool:
    if stored is MISSING or not is_number(stored):
        return op in NEGATIVE
    a, b = float(stored), to_number(value)
    return {
        "greater": a > b,
        "less": a < b,
        "greater_or_equal": a >= b,
        "less_or_equal": a <= b,
        "equal": a == b,
        "not_equal": a != b,
    }[op]


def match_bool(op: str, stored: Any, value: Any) -> bool:
    if op not in ("equal", "not_equal"):
        raise OracleError(f"operator {op} does not apply to bools")
    want = to_bool(value)
    if stored is MISSING:
        return op == "not_equal"
    hit = bool(stored) == want
    return hit if op == "equal" else not hit


def match_platform(op: str, stored: Any, value: Any) -> bool:
    if op not in ("equal", "not_equal", "in", "not_in"):
        raise OracleError(f"operator {op} does not apply to device_platform")
    if stored is MISSING:
        return op in NEGATIVE
    if op in ("equal", "not_equal"):
        hit = stored == to_platform(value)
        return hit if op == "equal" else not hit
    hit = stored in {to_platform(x) for x in value}
    return hit if op == "in" else not hit


def match_list(op: str, stored: Any, value: Any) -> bool:
    if op not in ("has_any", "not_has_any"):
        raise OracleError(f"operator {op} does not apply to lists")
    if stored is MISSING:
        return op == "not_has_any"
    hit = bool(set(stored) & {value_text(x) for x in value})
    return hit if op == "has_any" else not hit


def match_json(op: str, stored: Any, value: Any) -> bool:
    """A custom (JSON) property: text for string operators, numbers for numeric ones."""
    if op in NUMERIC_OPS or (op in ("equal", "not_equal") and is_number(value)):
        number = MISSING if isinstance(stored, bool) else plain_number(stored)  # a numeric text counts too
        return match_number(op, MISSING if number is None else number, value)
    if isinstance(stored, dict | list):
        stored = MISSING
    return match_string(op, stored, value)


# --------------------------------------------------------------------------------------------------
# The sessions as the server should see them
# --------------------------------------------------------------------------------------------------


class Session:
    """One stored session: the last document sent for its id, plus what the contract derives."""

    __slots__ = ("doc", "sid", "user", "uploaded", "start", "number", "first")

    def __init__(self, doc: dict) -> None:
        self.doc = doc
        self.sid: str = doc["sessionId"]
        self.user: str = doc["user"]["uxcamuserid"]
        self.uploaded = parse_time(doc["property"]["uploadedServerTime"])
        local = _get(doc, "property", "deviceLocalDateTime")
        self.start = parse_time(local) if local is not MISSING else self.uploaded
        self.number = 0
        self.first: Session | None = None

    # -- attribute values (MISSING when absent) ---------------------------------------------------
    @property
    def screens(self) -> Any:
        s = self.doc.get("screens")
        return MISSING if s is None else s

    def screen_count(self) -> Any:
        v = _get(self.doc, "property", "totalScreen")
        if v is MISSING and self.screens is not MISSING:
            return len(self.screens)
        return v

    def unique_screen_count(self) -> Any:
        v = _get(self.doc, "property", "uniqueScreensCount")
        if v is MISSING and self.screens is not MISSING:
            return len(set(self.screens))
        return v

    def gesture_count(self) -> Any:
        v = _get(self.doc, "property", "totalGesture")
        if v is MISSING:
            r = _get(self.doc, "property", "responsiveGestureCount")
            u = _get(self.doc, "property", "unresponsiveGestureCount")
            if r is not MISSING or u is not MISSING:  # the one not sent counts 0 (docs/api.md, Ingestion)
                return (0 if r is MISSING else r) + (0 if u is MISSING else u)
        return v

    def events(self) -> list[dict]:
        return self.doc.get("events") or []

    def referer_domain(self) -> Any:
        ref = _get(self.doc, "web", "referer")
        if ref is MISSING:
            return MISSING
        host = urlsplit(ref).hostname  # lowercased; without a leading "www." (docs/api.md, Filters)
        return host.removeprefix("www.") if host else MISSING


def _first_web(s: Session, *path: str) -> Any:
    return _get(s.first.doc, *path) if s.first is not None else MISSING


def _first_screen(s: Session) -> Any:
    if s.first is None:
        return MISSING
    screens = s.first.screens
    return screens[0] if screens is not MISSING and screens else MISSING


# attribute -> (kind, getter)
STRING, NUMBER, BOOL, PLATFORM_KIND, LIST, JSONKIND, EVENT, EVENTPROP, DATE = (
    "string",
    "number",
    "bool",
    "platform",
    "list",
    "json",
    "event",
    "eventprop",
    "date",
)


def _d(*path: str) -> Callable[[Session], Any]:
    return lambda s: _get(s.doc, *path)


ATTRIBUTES: dict[str, tuple[str, Callable[[Session], Any] | None]] = {
    "date_range": (DATE, None),
    "app_version": (STRING, _d("device", "appVersion")),
    "device_class": (STRING, _d("device", "class")),
    "device_id": (STRING, _d("device", "deviceId")),
    "device_manufacturer": (STRING, _d("device", "producer")),
    "device_model": (STRING, _d("device", "model")),
    "device_os_version": (STRING, _d("device", "osVersion")),
    "device_platform": (PLATFORM_KIND, _d("device", "platform")),
    "event_name": (EVENT, None),
    "event_custom_property": (EVENTPROP, None),
    "sdk_version": (STRING, _d("device", "sdkVersion")),
    "session_crashed": (BOOL, _d("property", "isCrashed")),
    "session_duration": (NUMBER, _d("property", "durationSec")),
    "session_gesture_count": (NUMBER, Session.gesture_count),
    "session_has_video": (BOOL, _d("property", "hasVideo")),
    "session_number_of_user": (NUMBER, lambda s: s.number),
    "session_rage_gesture_count": (NUMBER, _d("property", "rageGestureCount")),
    "session_responsive_gesture_count": (NUMBER, _d("property", "responsiveGestureCount")),
    "session_unresponsive_gesture_count": (NUMBER, _d("property", "unresponsiveGestureCount")),
    "session_screen_count": (NUMBER, Session.screen_count),
    "session_screen_list": (LIST, lambda s: s.screens),
    "session_unique_screen_count": (NUMBER, Session.unique_screen_count),
    "session_id": (STRING, lambda s: s.sid),
    "device_city": (STRING, _d("location", "city")),
    "device_country": (STRING, _d("device", "country")),
    "uxcamuserid": (STRING, lambda s: s.user),
    "user_name": (STRING, _d("user", "alias")),
    "user_custom_property": (JSONKIND, None),
    "user_first_utm": (JSONKIND, None),
    "user_first_referer": (STRING, lambda s: _first_web(s, "web", "referer")),
    "user_first_screen_name": (STRING, _first_screen),
    "user_first_referer_domain": (STRING, lambda s: s.first.referer_domain() if s.first else MISSING),
    "browser_name": (STRING, _d("web", "browserName")),
    "browser_version": (STRING, _d("web", "browserVersion")),
    "referer": (STRING, _d("web", "referer")),
    "referer_domain": (STRING, Session.referer_domain),
    "utm": (JSONKIND, None),
    "device_os_name": (STRING, _d("device", "osName")),
    "device_type": (STRING, _d("device", "type")),
}

JSON_SOURCES: dict[str, Callable[[Session, str], Any]] = {
    "user_custom_property": lambda s, name: _get(s.doc, "user", name),
    "utm": lambda s, name: _get(s.doc, "web", "utm", name),
    "user_first_utm": lambda s, name: _first_web(s, "web", "utm", name),
}

MATCHERS = {
    STRING: match_string,
    NUMBER: match_number,
    BOOL: match_bool,
    PLATFORM_KIND: match_platform,
    LIST: match_list,
}


def _event_matches(s: Session, names: set[str], prop: dict | None) -> bool:
    for e in s.events():
        if e.get("name") not in names:
            continue
        if prop is None:
            return True
        stored = (e.get("properties") or {}).get(prop["name"], MISSING)
        if stored is None:
            stored = MISSING
        if match_json(prop["operator"], stored, prop["value"]):
            return True
    return False


def filter_predicate(f: dict) -> Callable[[Session], bool]:
    attr, op, value = f["attribute"], f["operator"], f.get("value")
    if attr not in ATTRIBUTES:
        raise OracleError(f"unknown attribute {attr}")
    kind, getter = ATTRIBUTES[attr]
    if kind == DATE:
        return lambda s: True  # handled by the window
    if kind == EVENT:
        if op not in ("equal", "not_equal", "in", "not_in"):
            raise OracleError(f"operator {op} does not apply to event_name")
        names = {value_text(v) for v in value} if op in ("in", "not_in") else {value_text(value)}
        prop = f.get("property")
        positive = op in ("equal", "in")
        return lambda s: _event_matches(s, names, prop) == positive
    if kind == EVENTPROP:
        name = f["property_name"]
        pos_op = POSITIVE_OF.get(op, op)
        negative = op in NEGATIVE

        def pred(s: Session) -> bool:
            hit = False
            for e in s.events():
                stored = (e.get("properties") or {}).get(name, MISSING)
                if stored is None:
                    stored = MISSING
                if match_json(pos_op, stored, value):
                    hit = True
                    break
            return not hit if negative else hit

        return pred
    if kind == JSONKIND:
        name = f["property_name"]
        src = JSON_SOURCES[attr]
        return lambda s: match_json(op, src(s, name), value)
    matcher = MATCHERS[kind]
    assert getter is not None
    return lambda s: matcher(op, getter(s), value)


def window_predicate(filters: Iterable[dict], now: datetime) -> Callable[[datetime], bool]:
    """§4.1: the upload-time window of a request made at `now` (naive UTC, to the second)."""
    now = now.replace(microsecond=0)
    default = (now - DEFAULT_WINDOW, now)
    parts: list[Callable[[datetime], bool]] = []
    bounded = False  # not_on alone keeps the default window; with another date filter it only removes its day
    for f in filters:
        if f["attribute"] != "date_range":
            continue
        op, v = f["operator"], f["value"]
        bounded = bounded or op != "not_on"
        if op == "on":
            d0 = parse_time(v).replace(hour=0, minute=0, second=0)
            parts.append(lambda t, d0=d0: d0 <= t <= d0 + END_OF_DAY)
        elif op == "not_on":
            d0 = parse_time(v).replace(hour=0, minute=0, second=0)
            parts.append(lambda t, d0=d0: not (d0 <= t <= d0 + END_OF_DAY))
        elif op == "before":
            d = parse_time(v)
            parts.append(lambda t, d=d: d - DEFAULT_WINDOW <= t < d)
        elif op == "after":
            d = parse_time(v)
            parts.append(lambda t, d=d: d < t <= now)
        elif op == "between_dates":
            lo = parse_time(v["lower"])
            hi = parse_time(v["upper"])
            if is_date_only(v["upper"]):
                hi = hi + END_OF_DAY
            parts.append(lambda t, lo=lo, hi=hi: lo <= t <= hi)
        else:
            raise OracleError(f"operator {op} does not apply to date_range")
    if not bounded:
        parts.append(lambda t: default[0] <= t <= default[1])
    return lambda t: all(p(t) for p in parts)


class Oracle:
    """The list endpoint of one app, computed from the documents it was sent (in sending order)."""

    def __init__(self, docs: Iterable[dict]) -> None:
        latest: dict[str, dict] = {}
        for d in docs:  # last write wins
            latest[d["sessionId"]] = d
        self.sessions: dict[str, Session] = {sid: Session(d) for sid, d in latest.items()}
        by_user: dict[str, list[Session]] = defaultdict(list)
        for s in self.sessions.values():
            by_user[s.user].append(s)
        for group in by_user.values():
            group.sort(key=lambda s: (s.start, s.uploaded, s.sid))
            for i, s in enumerate(group, 1):
                s.number = i
                s.first = group[0]

    def doc(self, sid: str) -> dict:
        return self.sessions[sid].doc

    def session_number(self, sid: str) -> int:
        return self.sessions[sid].number

    def matching(self, filters: list[dict], now: datetime) -> list[str]:
        """Every matching sessionId, in the list's order."""
        in_window = window_predicate(filters, now)
        preds = [filter_predicate(f) for f in filters]
        rows = [s for s in self.sessions.values() if in_window(s.uploaded) and all(p(s) for p in preds)]
        rows.sort(key=lambda s: s.sid)
        rows.sort(key=lambda s: s.uploaded, reverse=True)
        return [s.sid for s in rows]

    @staticmethod
    def page(ids: list[str], page: int, page_size: int) -> tuple[list[str], dict]:
        """One page of an ordered id list and the `pagination` object the server must send with it."""
        rows = ids[(page - 1) * page_size : page * page_size]
        more = len(ids) > page * page_size
        return rows, {"current": page, "next": page + 1 if more else None, "total": len(rows)}
