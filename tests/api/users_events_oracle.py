"""An independent, plain-Python model of `/v2/user[/analytics]` and `/v2/event[/analytics]` over the documents
as they were sent.

Written from the contract (SPEC §4, §6, §9 and docs/api.md), not from the server: it imports nothing from
`sessionscope`. Which sessions match a session attribute, and each session's `sessionNumber`, come from
`list_oracle`; group values, percentiles and bucket labels from `analytics_oracle` (the same contract,
modelled once).

Users (a user is seen through its sessions in the window):
- a user's totals (`user_session_count`, `user_session_duration`, ...) are over its sessions in the window,
  whatever the other filters; `user_first_seen_on` tests the upload time of its first ever session
  (sessionNumber 1): `on`/`not_on` a day, `after`/`before` a time, `between_dates` both bounds;
- a user matches when one of its sessions in the window matches every filter (session attributes test the
  session, user attributes the user's totals), except a negative `event_name` or `event_custom_property`
  (SPEC §4, "had none"), which holds when no session of the user in the window had such an event;
- the list: one row per matching user, from its latest matching session (upload time desc, sessionId asc),
  the users ordered by that session's upload time descending, then uxcamuserid;
- analytics: the matching sessions are grouped as for sessions; `user_count` counts distinct users,
  `session_new_users_count` distinct users whose first ever session matches, `{op}_user_*` aggregates the
  totals of the distinct users of the group; group values keep the top N by distinct users.

Events (one row per event, with its session):
- `event_name`, `event_screen_name`, `event_custom_property` test the event itself; every other attribute
  the event's session; the window is on the session's upload time;
- the list: upload time descending, sessionId, then the event's position in its session;
- analytics: `event_count`, `event_unique_user_count`, `event_unique_session_count`,
  `session_new_users_count`; group values keep the top N by events.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .analytics_oracle import (
    GROUPS,
    NUMERIC,
    aggregate,
    bucket_start,
    custom_number,
    custom_text,
    fill_buckets,
    metric_key,
    ordered_rows,
)
from .list_oracle import (
    MISSING,
    NEGATIVE,
    POSITIVE_OF,
    Oracle,
    OracleError,
    Session,
    _get,
    filter_predicate,
    is_date_only,
    match_json,
    match_number,
    match_string,
    parse_time,
    value_text,
    window_predicate,
)

SECOND = timedelta(seconds=1)
END_OF_DAY = timedelta(hours=23, minutes=59, seconds=59)
DEFAULT_WINDOW = timedelta(days=30)

# conditions on a session's events, whose negative operators are the user's: it had none (SPEC §4)
HAD_NONE = {"event_name", "event_custom_property"}

# user total -> per-session contribution (None: count the session)
USER_TOTALS: dict[str, Callable[[Session], Any] | None] = {
    "user_session_count": None,
    "user_gesture_count": lambda s: _gestures(s),
    "user_rage_gesture_count": lambda s: _get(s.doc, "property", "rageGestureCount"),
    "user_responsive_gesture_count": lambda s: _get(s.doc, "property", "responsiveGestureCount"),
    "user_unresponsive_gesture_count": lambda s: _get(s.doc, "property", "unresponsiveGestureCount"),
    "user_session_screen_count": lambda s: s.screen_count(),
    "user_session_duration": lambda s: _get(s.doc, "property", "durationSec"),
    "user_event_count": lambda s: len(s.events()),
}
USER_DEFAULTS = [
    {"attribute": "user_count", "operator": ""},
    {"attribute": "session_new_users_count", "operator": ""},
    {"attribute": "user_session_count", "operator": "avg"},
    {"attribute": "user_session_duration", "operator": "avg"},
    {"attribute": "user_rage_gesture_count", "operator": "avg"},
    {"attribute": "user_event_count", "operator": "avg"},
    {"attribute": "user_session_screen_count", "operator": "avg"},
]
EVENT_DEFAULTS = [
    {"attribute": "event_count", "operator": ""},
    {"attribute": "event_unique_user_count", "operator": ""},
    {"attribute": "event_unique_session_count", "operator": ""},
]
COUNTS = {"user_count", "session_new_users_count", "event_count", "event_unique_user_count", "event_unique_session_count"}
USER_BUCKETS = {"session_uploadedon_day": "day", "session_uploaded_week": "week", "session_uploaded_month": "month"}
EVENT_BUCKETS = {"event_uploadedon_day": "day", "event_uploaded_week": "week", "event_uploaded_month": "month"}
PLATFORM_CODE = {"android": 1, "ios": 2}


def _gestures(s: Session) -> Any:
    total = _get(s.doc, "property", "totalGesture")
    if total is MISSING:
        r = _get(s.doc, "property", "responsiveGestureCount")
        u = _get(s.doc, "property", "unresponsiveGestureCount")
        if r is not MISSING or u is not MISSING:
            return (0 if r is MISSING else r) + (0 if u is MISSING else u)
    return total


def _sum(values: list[Any]) -> Any:
    vals = [v for v in values if v is not MISSING and v is not None]
    if not vals:
        return None
    return math.fsum(vals) if any(isinstance(v, float) for v in vals) else sum(vals)


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%SZ")


def first_seen_predicate(op: str, value: Any) -> Callable[[datetime | None], bool]:
    """user_first_seen_on: a condition on a time, with the window table's day rules but no default bounds."""
    if op in ("on", "not_on"):
        d0 = parse_time(value).replace(hour=0, minute=0, second=0)
        inside = lambda t: t is not None and d0 <= t <= d0 + END_OF_DAY  # noqa: E731
        return inside if op == "on" else (lambda t: not inside(t))
    if op == "after":
        d = parse_time(value)
        return lambda t: t is not None and t > d
    if op == "before":
        d = parse_time(value)
        return lambda t: t is not None and t < d
    if op == "between_dates":
        lo, hi = parse_time(value["lower"]), parse_time(value["upper"])
        if is_date_only(value["upper"]):
            hi += END_OF_DAY
        return lambda t: t is not None and lo <= t <= hi
    raise OracleError(f"operator {op} does not apply to user_first_seen_on")


def window_bounds(filters: list[dict], now: datetime) -> Callable[[datetime], bool]:
    return window_predicate(filters, now)


# -- users --------------------------------------------------------------------------------------------------


class UsersOracle:
    def __init__(self, docs: list[dict]) -> None:
        self.base = Oracle(docs)
        self.sessions = list(self.base.sessions.values())
        self.first_seen: dict[str, datetime] = {s.user: s.uploaded for s in self.sessions if s.number == 1}

    def totals(self, in_window: Callable[[datetime], bool]) -> dict[str, dict[str, Any]]:
        by_user: dict[str, list[Session]] = defaultdict(list)
        for s in self.sessions:
            if in_window(s.uploaded):
                by_user[s.user].append(s)
        out: dict[str, dict[str, Any]] = {}
        for user, rows in by_user.items():
            t = {
                name: (len(rows) if get is None else _sum([get(s) for s in rows])) for name, get in USER_TOTALS.items()
            }
            t["last_seen"] = max(s.uploaded for s in rows)
            out[user] = t
        return out

    def predicate(
        self, f: dict, totals: dict[str, dict[str, Any]], in_window: Callable[[datetime], bool]
    ) -> Callable[[Session], bool]:
        attr, op = f["attribute"], f["operator"]
        if attr in USER_TOTALS:
            return lambda s: match_number(op, MISSING if totals[s.user][attr] is None else totals[s.user][attr], f["value"])
        if attr == "user_first_seen_on":
            test = first_seen_predicate(op, f["value"])
            return lambda s: test(self.first_seen.get(s.user))
        if attr.startswith("user_") and attr[5:] in HAD_NONE:  # a user row's link names a "had none" so
            f, attr = {**f, "attribute": attr[5:]}, attr[5:]
        if attr in HAD_NONE and op in NEGATIVE:
            # the user's "had none": no session of the user in the window had such an event
            had = filter_predicate({**f, "operator": POSITIVE_OF[op]})
            users_with = {s.user for s in self.sessions if in_window(s.uploaded) and had(s)}
            return lambda s: s.user not in users_with
        return filter_predicate(f)

    def matching(self, filters: list[dict], in_window: Callable[[datetime], bool]) -> tuple[list[Session], dict]:
        totals = self.totals(in_window)
        preds = [self.predicate(f, totals, in_window) for f in filters if f["attribute"] != "date_range"]
        rows = [s for s in self.sessions if in_window(s.uploaded) and all(p(s) for p in preds)]
        return rows, totals

    def listing(self, filters: list[dict], now: datetime) -> list[dict]:
        """Every matching user's expected row (without `url`), in the list's order."""
        rows, totals = self.matching(filters, window_bounds(filters, now))
        latest: dict[str, Session] = {}
        for s in sorted(rows, key=lambda s: s.sid):
            cur = latest.get(s.user)
            if cur is None or s.uploaded > cur.uploaded:
                latest[s.user] = s
        users = sorted(latest.values(), key=lambda s: s.user)
        users.sort(key=lambda s: s.uploaded, reverse=True)
        return [self.user_row(s, totals[s.user]) for s in users]

    def user_row(self, s: Session, t: dict[str, Any]) -> dict:
        user = s.doc["user"]
        identity = user.get("kUXCam_UserIdentity") or None
        prop = {"alias": user.get("alias")}
        prop.update({k: v for k, v in user.items() if k not in ("uxcamuserid", "kUXCam_UserIdentity", "alias") and v is not None})
        if identity is not None:
            prop["kUXCam_UserIdentity"] = identity
        dev = lambda k: _get(s.doc, "device", k)  # noqa: E731
        val = lambda v: None if v is MISSING else v  # noqa: E731
        return {
            "uxcamUserId": s.user,
            "userId": identity,
            "property": prop,
            "usage": {
                "registeredOn": iso(self.first_seen.get(s.user)),
                "lastseenOn": iso(t["last_seen"]),
                "totalSession": t["user_session_count"],
                "totalSessionTime": t["user_session_duration"],
                "totalGesture": t["user_gesture_count"],
                "screenCount": t["user_session_screen_count"],
                "eventCount": t["user_event_count"],
                "rageGestureCount": t["user_rage_gesture_count"],
                "responsiveGestureCount": t["user_responsive_gesture_count"],
                "unresponsiveGestureCount": t["user_unresponsive_gesture_count"],
            },
            "location": {
                "countryCode": val(_get(s.doc, "location", "countryCode")),
                "city": val(_get(s.doc, "location", "city")),
                "country": val(dev("country")),
            },
            "device": {
                "model": val(dev("model")),
                "deviceId": val(dev("deviceId")),
                "platform": val(dev("platform")),
                "appVersion": val(dev("appVersion")),
                "osVersion": val(dev("osVersion")),
            },
        }

    def answer(self, lo: datetime, hi: datetime, filters=None, group_by=None, aggregation=None, comparison=False):
        filters, group_by = filters or [], group_by or []

        def rows_for(lo: datetime, hi: datetime) -> list[Session]:
            return self.matching(filters, lambda t: lo <= t <= hi)[0]

        def metric(a: dict, rows: list[Session], lo: datetime, hi: datetime, cache: dict) -> Any:
            attr, op = a["attribute"], a.get("operator", "")
            if attr == "user_count":
                return len({s.user for s in rows})
            if attr == "session_new_users_count":
                return len({s.user for s in rows if s.number == 1})
            if attr == "session_count":
                return len(rows)
            if attr in USER_TOTALS:
                if (lo, hi) not in cache:
                    cache[(lo, hi)] = self.totals(lambda t: lo <= t <= hi)
                t = cache[(lo, hi)]
                return aggregate(op, [t[u][attr] for u in {s.user for s in rows} if t[u][attr] is not None])
            if attr == "user_custom_property":  # each user once: the value of its latest matching session
                latest: dict[str, Session] = {}
                for s in sorted(rows, key=lambda s: (s.uploaded, _neg(s.sid))):
                    latest[s.user] = s
                values = [custom_number(_get(s.doc, "user", a["property_name"])) for s in latest.values()]
                return aggregate(op, [v for v in values if v is not MISSING and v is not None])
            raise OracleError(f"no model for metric {attr}")

        return grouped_answer(
            lo, hi, rows_for, lambda g, s, shift: _session_group_value(g, s, shift, USER_BUCKETS),
            lambda rows: len({s.user for s in rows}), metric, group_by, aggregation or USER_DEFAULTS, "user_count",
            USER_BUCKETS, comparison,
        )


def _neg(text: str) -> tuple[int, ...]:
    """A key that sorts strings in reverse (the latest row wins ties by the smaller session id)."""
    return tuple(-ord(c) for c in text) + (0,)


def _session_group_value(g: dict, s: Session, shift: timedelta, buckets: dict[str, str]) -> Any:
    attr = g["attribute"]
    if attr in buckets:
        return bucket_start(buckets[attr], s.uploaded + shift)
    if attr == "user_custom_property":
        return custom_text(_get(s.doc, "user", g["property_name"]))
    v = GROUPS[attr](s)
    return None if v is MISSING else v


# -- events -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    session: Session
    seq: int
    event: dict

    @property
    def user(self) -> str:
        return self.session.user

    @property
    def uploaded(self) -> datetime:
        return self.session.uploaded


def _event_prop(e: Event, name: str) -> Any:
    v = (e.event.get("properties") or {}).get(name, MISSING)
    return MISSING if v is None else v


class EventsOracle:
    def __init__(self, docs: list[dict]) -> None:
        self.base = Oracle(docs)
        self.events = [Event(s, i, e) for s in self.base.sessions.values() for i, e in enumerate(s.events())]

    @staticmethod
    def predicate(f: dict) -> Callable[[Event], bool]:
        attr, op, value = f["attribute"], f["operator"], f.get("value")
        if attr == "event_name":
            prop = f.get("property")

            def named(e: Event) -> bool:
                hit = match_string(op, e.event.get("name", MISSING), value)
                if prop is not None:
                    hit = hit and match_json(prop["operator"], _event_prop(e, prop["name"]), prop["value"])
                return hit

            return named
        if attr == "event_screen_name":
            return lambda e: match_string(op, e.event.get("screen") or MISSING, value)
        if attr == "event_custom_property":
            return lambda e: match_json(op, _event_prop(e, f["property_name"]), value)
        session_pred = filter_predicate(f)
        return lambda e: session_pred(e.session)

    def matching(self, filters: list[dict], in_window: Callable[[datetime], bool]) -> list[Event]:
        preds = [self.predicate(f) for f in filters if f["attribute"] != "date_range"]
        return [e for e in self.events if in_window(e.uploaded) and all(p(e) for p in preds)]

    def listing(self, filters: list[dict], now: datetime) -> list[Event]:
        rows = self.matching(filters, window_bounds(filters, now))
        rows.sort(key=lambda e: (e.session.sid, e.seq))
        rows.sort(key=lambda e: e.uploaded, reverse=True)
        return rows

    @staticmethod
    def event_row(e: Event) -> dict:
        """The expected row, without `eventId` and `url`."""
        s = e.session
        val = lambda v: None if v is MISSING else v  # noqa: E731
        user = {}
        if s.doc["user"].get("kUXCam_UserIdentity"):
            user["kUXCam_UserIdentity"] = s.doc["user"]["kUXCam_UserIdentity"]
        user.update({k: v for k, v in s.doc["user"].items() if k not in ("uxcamuserid", "kUXCam_UserIdentity", "alias") and v is not None})
        user["uxcamuserid"] = s.user
        props = {k: v for k, v in (e.event.get("properties") or {}).items() if v is not None}
        dev = lambda k: val(_get(s.doc, "device", k))  # noqa: E731
        return {
            "eventName": e.event["name"],
            "eventScreen": e.event.get("screen"),
            "eventDate": iso(s.uploaded),
            "eventPropertyTime": float(e.event.get("timeSec", 0)),
            "sessionProperty": {
                "sessionId": s.sid,
                "hasVideo": bool(_get(s.doc, "property", "hasVideo") is True),
                "isCrashed": bool(_get(s.doc, "property", "isCrashed") is True),
                "durationSec": val(_get(s.doc, "property", "durationSec")),
                "totalGesture": val(_gestures(s)),
                "totalScreen": val(s.screen_count()),
                "uniqueScreensCount": val(s.unique_screen_count()),
                "networkType": val(_get(s.doc, "property", "networkType")),
                "sessionNumber": s.number,
                "country": dev("country"),
            },
            "userProperty": user,
            "eventProperty": props,
            "device": {
                "model": dev("model"),
                "deviceId": dev("deviceId"),
                "platform": PLATFORM_CODE.get(dev("platform")),
                "appVersion": dev("appVersion"),
                "osVersion": dev("osVersion"),
                "producer": dev("producer"),
                "class": dev("class"),
            },
        }

    def answer(self, lo: datetime, hi: datetime, filters=None, group_by=None, aggregation=None, comparison=False):
        filters, group_by = filters or [], group_by or []

        def group_value(g: dict, e: Event, shift: timedelta) -> Any:
            attr = g["attribute"]
            if attr == "event_name":
                return e.event.get("name")
            if attr == "event_screen_name":
                return e.event.get("screen")
            if attr == "event_custom_property":
                return custom_text(_event_prop(e, g["property_name"]))
            return _session_group_value(g, e.session, shift, EVENT_BUCKETS)

        def metric(a: dict, rows: list[Event], lo: datetime, hi: datetime, cache: dict) -> Any:
            attr, op = a["attribute"], a.get("operator", "")
            if attr == "event_count":
                return len(rows)
            if attr == "event_unique_user_count":
                return len({e.user for e in rows})
            if attr == "event_unique_session_count":
                return len({e.session.sid for e in rows})
            if attr == "session_new_users_count":
                return len({e.user for e in rows if e.session.number == 1})
            if attr == "event_custom_property":
                return aggregate(op, [v for v in (custom_number(_event_prop(e, a["property_name"])) for e in rows) if v is not MISSING])
            # a session's own figures count once per group, however many of its events are in it
            sessions = list({e.session.sid: e.session for e in rows}.values())
            if attr == "user_custom_property":
                raw = [custom_number(_get(s.doc, "user", a["property_name"])) for s in sessions]
            elif attr in NUMERIC:
                raw = [NUMERIC[attr](s) for s in sessions]
            else:
                raise OracleError(f"no model for metric {attr}")
            return aggregate(op, [int(v) if isinstance(v, bool) else v for v in raw if v is not MISSING and v is not None])

        return grouped_answer(
            lo, hi, lambda lo, hi: self.matching(filters, lambda t: lo <= t <= hi), group_value, len, metric,
            group_by, aggregation or EVENT_DEFAULTS, "event_count", EVENT_BUCKETS, comparison,
        )


# -- grouping, ordering, comparison (as analytics_oracle does for sessions) ---------------------------------


def grouped_answer(
    lo: datetime,
    hi: datetime,
    rows_for: Callable[[datetime, datetime], list],
    group_value: Callable[[dict, Any, timedelta], Any],
    rank: Callable[[list], int],
    metric: Callable[[dict, list, datetime, datetime, dict], Any],
    group_by: list[dict],
    requested: list[dict],
    primary: str,
    buckets: dict[str, str],
    comparison: bool,
) -> list[dict]:
    metrics: dict[str, dict] = {primary: {"attribute": primary, "operator": ""}}
    for a in requested:
        metrics.setdefault(metric_key(a), a)
    order_key = metric_key(requested[0])
    cache: dict = {}

    def groups(rows: list, kept: list | None, shift: timedelta) -> tuple[dict[tuple, list], list]:
        raw = [[group_value(g, r, shift) for r in rows] for g in group_by]
        if kept is None:
            kept = []
            for i, g in enumerate(group_by):
                if g["attribute"] in buckets:
                    kept.append(None)
                    continue
                members: dict[Any, list] = defaultdict(list)
                for r, v in zip(rows, raw[i], strict=True):
                    members[v].append(r)
                counts = Counter({v: rank(m) for v, m in members.items()})
                ranked = sorted(counts, key=lambda v: (-counts[v], v is None, v if v is not None else ""))
                kept.append(ranked[: int(g.get("max_group_number", 50))])
        out: dict[tuple, list] = defaultdict(list)
        for j, r in enumerate(rows):
            key = tuple(
                (raw[i][j], False) if kept[i] is None or raw[i][j] in kept[i] else (None, True)
                for i in range(len(group_by))
            )
            out[key].append(r)
        return out, kept

    rows = rows_for(lo, hi)
    grouped, kept = groups(rows, None, timedelta(0))
    if not group_by:
        grouped = {(): rows}
    values = {k: {m: metric(a, rs, lo, hi, cache) for m, a in metrics.items()} for k, rs in grouped.items()}
    fill_buckets(group_by, values, metrics, lo, hi, buckets, COUNTS)

    previous: dict[tuple, dict] = {}
    if comparison:
        length = hi - lo + SECOND
        plo, phi = lo - length, hi - length
        prev_rows = rows_for(plo, phi)
        prev_grouped, _ = groups(prev_rows, kept, length)
        if not group_by:
            prev_grouped = {(): prev_rows}
        previous = {k: {m: metric(a, rs, plo, phi, cache) for m, a in metrics.items()} for k, rs in prev_grouped.items()}

    return ordered_rows(group_by, values, previous, metrics, order_key, buckets, COUNTS, comparison)


__all__ = ["EventsOracle", "UsersOracle", "NEGATIVE", "value_text"]
