"""An independent, plain-Python model of `GET /v2/session/analytics` over the documents as they were sent.

Written from the contract (SPEC §6, §12 and the documented decisions of docs/api.md), not from the server:
it imports nothing from `sessionscope`. Which sessions match a filter, and each session's `sessionNumber`,
come from `list_oracle` (the same contract, modelled once).

Semantics modelled:
- metrics: `session_count`; `session_unique_user_count` (distinct users); `session_new_users_count`
  (distinct users with a matching session whose sessionNumber is 1); `sum`/`avg`/`min`/`max` and exact
  percentiles `p50`/`p90`/`p95`/`p99` (linear interpolation at q·(n−1), numpy's default) over the values
  present; booleans count as 1/0; custom properties count where their text is a finite number; every
  operator but the counts is null over no values;
- per-user measures (`user_*`): a user's total over the user's sessions in the window (filters ignored),
  aggregated over the distinct users of the group;
- group values: strings; `device_platform` "android"/"ios"; booleans; custom properties as their text
  (true/false, 10, 1.5, compact JSON for arrays/objects); a missing value is None; time buckets by upload
  day / ISO week (Monday) / month;
- `max_group_number` N: the N values with the most matching sessions (ties: value ascending, missing
  last) are kept, the rest form "others"; time buckets are never folded;
- time buckets: every bucket the window touches, with every observed value of the other level, zero
  counts and null otherwise when empty;
- order: time buckets chronologically, then the first requested metric descending (null last), then
  group values ascending (missing after values, "others" last);
- comparison: the same over [lo − L, hi − L] (L = hi − lo + 1 s), groups folded to the current window's
  kept values, time buckets by upload time + L; `round((cur − prev) / prev · 100, 2)`, null when prev is 0
  or null.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from itertools import product
from typing import Any

from .list_oracle import MISSING, Oracle, Session, _get, filter_predicate

SECOND = timedelta(seconds=1)
COUNTS = ("session_count", "session_unique_user_count", "session_new_users_count")
DEFAULT_AGGREGATION = [
    {"attribute": "session_count", "operator": ""},
    {"attribute": "session_unique_user_count", "operator": ""},
    {"attribute": "session_new_users_count", "operator": ""},
    {"attribute": "session_gesture_count", "operator": "avg"},
    {"attribute": "session_rage_gesture_count", "operator": "avg"},
    {"attribute": "session_responsive_gesture_count", "operator": "avg"},
    {"attribute": "session_unresponsive_gesture_count", "operator": "avg"},
    {"attribute": "session_duration", "operator": "avg"},
    {"attribute": "session_unique_screen_count", "operator": "avg"},
]
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


def _prop(*path: str) -> Callable[[Session], Any]:
    return lambda s: _get(s.doc, *path)


def _gestures(s: Session) -> Any:
    total = _get(s.doc, "property", "totalGesture")
    if total is MISSING:
        r = _get(s.doc, "property", "responsiveGestureCount")
        u = _get(s.doc, "property", "unresponsiveGestureCount")
        if r is not MISSING or u is not MISSING:
            return (0 if r is MISSING else r) + (0 if u is MISSING else u)
    return total


def _screens(s: Session, unique: bool) -> Any:
    v = _get(s.doc, "property", "uniqueScreensCount" if unique else "totalScreen")
    if v is MISSING and s.doc.get("screens") is not None:
        return len(set(s.doc["screens"])) if unique else len(s.doc["screens"])
    return v


def _bool(path: tuple[str, ...]) -> Callable[[Session], Any]:
    # booleans default to false at ingest
    return lambda s: bool(_get(s.doc, *path)) if _get(s.doc, *path) is not MISSING else False


# numeric attribute -> value getter (MISSING when absent)
NUMERIC: dict[str, Callable[[Session], Any]] = {
    "session_duration": _prop("property", "durationSec"),
    "session_gesture_count": _gestures,
    "session_rage_gesture_count": _prop("property", "rageGestureCount"),
    "session_responsive_gesture_count": _prop("property", "responsiveGestureCount"),
    "session_unresponsive_gesture_count": _prop("property", "unresponsiveGestureCount"),
    "session_screen_count": lambda s: _screens(s, False),
    "session_unique_screen_count": lambda s: _screens(s, True),
    "session_number_of_user": lambda s: s.number,
    "session_crashed": _bool(("property", "isCrashed")),
    "session_has_video": _bool(("property", "hasVideo")),
}

# per-user measure -> per-session contribution (None: count the session)
USER_MEASURES: dict[str, Callable[[Session], Any] | None] = {
    "user_session_count": None,
    "user_gesture_count": _gestures,
    "user_rage_gesture_count": _prop("property", "rageGestureCount"),
    "user_responsive_gesture_count": _prop("property", "responsiveGestureCount"),
    "user_unresponsive_gesture_count": _prop("property", "unresponsiveGestureCount"),
    "user_session_screen_count": lambda s: _screens(s, False),
    "user_session_duration": _prop("property", "durationSec"),
    "user_event_count": lambda s: len(s.doc.get("events") or []),
}

# groupable attribute -> value getter
GROUPS: dict[str, Callable[[Session], Any]] = {
    "app_version": _prop("device", "appVersion"),
    "device_class": _prop("device", "class"),
    "device_manufacturer": _prop("device", "producer"),
    "device_model": _prop("device", "model"),
    "device_os_version": _prop("device", "osVersion"),
    "device_country": _prop("device", "country"),
    "device_city": _prop("location", "city"),
    "device_platform": _prop("device", "platform"),
    "browser_name": _prop("web", "browserName"),
    "device_type": _prop("device", "type"),
    "session_crashed": _bool(("property", "isCrashed")),
    "session_has_video": _bool(("property", "hasVideo")),
}
BUCKETS = {
    "session_uploadedon_day": "day",
    "session_uploaded_week": "week",
    "session_uploaded_month": "month",
}


def custom_text(v: Any) -> Any:
    """A custom property's stored text (None when absent)."""
    if v is MISSING or v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) <= 2**53 else repr(v)  # 5.0 is stored as "5"
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def custom_number(v: Any) -> Any:
    text = custom_text(v)
    if text is None:
        return MISSING
    try:
        f = float(text)
    except ValueError:
        return MISSING
    return f if math.isfinite(f) else MISSING


def quantile(values: list[float], q: float) -> float:
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def aggregate(op: str, values: list[Any]) -> Any:
    if not values:
        return None
    if op == "sum":
        return math.fsum(values) if any(isinstance(v, float) for v in values) else sum(values)
    if op == "avg":
        return math.fsum(values) / len(values)
    if op == "min":
        return min(values)
    if op == "max":
        return max(values)
    return quantile([float(v) for v in values], QUANTILES[op])


def metric_key(a: dict) -> str:
    op = a.get("operator", "")
    if op == "":
        return a["attribute"]
    if a.get("property_name") is not None:
        return f"{op}_{a['attribute']}_{a['property_name']}"
    return f"{op}_{a['attribute']}"


def bucket_start(unit: str, t: datetime | date) -> date:
    d = t.date() if isinstance(t, datetime) else t
    if unit == "week":
        return d - timedelta(days=d.weekday())
    if unit == "month":
        return d.replace(day=1)
    return d


def bucket_label(unit: str, start: date) -> str:
    if unit == "day":
        return start.isoformat()
    if unit == "month":
        return start.strftime("%Y-%m")
    end = start + timedelta(days=6)
    return f"{start:%b %d} - {end:%b %d}"


class AnalyticsOracle:
    """Session analytics of one app, computed from the documents it was sent."""

    def __init__(self, docs: list[dict]) -> None:
        self.base = Oracle(docs)
        self.sessions = list(self.base.sessions.values())

    # -- pieces --------------------------------------------------------------------------------
    def _matching(self, filters: list[dict], lo: datetime, hi: datetime) -> list[Session]:
        preds = [filter_predicate(f) for f in filters if f["attribute"] != "date_range"]
        return [s for s in self.sessions if lo <= s.uploaded <= hi and all(p(s) for p in preds)]

    @staticmethod
    def _group_value(g: dict, s: Session, shift: timedelta) -> Any:
        attr = g["attribute"]
        if attr in BUCKETS:
            return bucket_start(BUCKETS[attr], s.uploaded + shift)
        if attr == "user_custom_property":
            return custom_text(_get(s.doc, "user", g["property_name"]))
        v = GROUPS[attr](s)
        return None if v is MISSING else v

    @staticmethod
    def _metric_values(a: dict, group: list[Session], user_totals: dict[str, Any]) -> Any:
        attr, op = a["attribute"], a.get("operator", "")
        if attr == "session_count":
            return len(group)
        if attr == "session_unique_user_count":
            return len({s.user for s in group})
        if attr == "session_new_users_count":
            return len({s.user for s in group if s.number == 1})
        if attr in USER_MEASURES:
            users = {s.user for s in group}
            return aggregate(op, [user_totals[u][attr] for u in users if user_totals[u][attr] is not None])
        if attr == "user_custom_property":
            raw = [custom_number(_get(s.doc, "user", a["property_name"])) for s in group]
        else:
            raw = [NUMERIC[attr](s) for s in group]
        values = [int(v) if isinstance(v, bool) else v for v in raw if v is not MISSING and v is not None]
        return aggregate(op, values)

    def _user_totals(self, lo: datetime, hi: datetime) -> dict[str, dict[str, Any]]:
        totals: dict[str, dict[str, Any]] = defaultdict(dict)
        by_user: dict[str, list[Session]] = defaultdict(list)
        for s in self.sessions:
            if lo <= s.uploaded <= hi:
                by_user[s.user].append(s)
        for user, sessions in by_user.items():
            for name, getter in USER_MEASURES.items():
                if getter is None:
                    totals[user][name] = len(sessions)
                    continue
                vals = [v for v in (getter(s) for s in sessions) if v is not MISSING and v is not None]
                totals[user][name] = (
                    (math.fsum(vals) if any(isinstance(v, float) for v in vals) else sum(vals))
                    if vals
                    else None
                )
        return totals

    @staticmethod
    def _kept(g: dict, sessions: list[Session], values: list[Any]) -> list[Any]:
        counts = Counter(values)
        ranked = sorted(counts, key=lambda v: (-counts[v], v is None, v if v is not None else ""))
        return ranked[: int(g.get("max_group_number", 50))]

    def _groups(
        self,
        group_by: list[dict],
        sessions: list[Session],
        kept: list[list[Any] | None] | None,
        shift: timedelta,
    ) -> tuple[dict[tuple, list[Session]], list[list[Any] | None]]:
        raw = [[self._group_value(g, s, shift) for s in sessions] for g in group_by]
        if kept is None:
            kept = [
                None if g["attribute"] in BUCKETS else self._kept(g, sessions, raw[i])
                for i, g in enumerate(group_by)
            ]
        groups: dict[tuple, list[Session]] = defaultdict(list)
        for j, s in enumerate(sessions):
            key = []
            for i, _g in enumerate(group_by):
                v = raw[i][j]
                keep = kept[i]
                key.append((v, False) if keep is None or v in keep else (None, True))
            groups[tuple(key)].append(s)
        return groups, kept

    # -- the answer ----------------------------------------------------------------------------
    def answer(
        self,
        lo: datetime,
        hi: datetime,
        filters: list[dict] | None = None,
        group_by: list[dict] | None = None,
        aggregation: list[dict] | None = None,
        comparison: bool = False,
    ) -> list[dict]:
        """Every row of the response, in order, without `dashboard_link` (unpaginated)."""
        filters = filters or []
        group_by = group_by or []
        requested = aggregation or DEFAULT_AGGREGATION
        metrics: dict[str, dict] = {"session_count": {"attribute": "session_count", "operator": ""}}
        for a in requested:
            metrics.setdefault(metric_key(a), a)
        order_key = metric_key(requested[0])

        sessions = self._matching(filters, lo, hi)
        groups, kept = self._groups(group_by, sessions, None, timedelta(0))
        totals = self._user_totals(lo, hi)
        values = {
            key: {k: self._metric_values(a, rows, totals) for k, a in metrics.items()}
            for key, rows in groups.items()
        }
        if not group_by:
            values = {(): {k: self._metric_values(a, sessions, totals) for k, a in metrics.items()}}
        fill_buckets(group_by, values, metrics, lo, hi, BUCKETS, COUNTS)

        previous: dict[tuple, dict[str, Any]] = {}
        if comparison:
            length = hi - lo + SECOND
            prev_sessions = self._matching(filters, lo - length, hi - length)
            prev_groups, _ = self._groups(group_by, prev_sessions, kept, length)
            prev_totals = self._user_totals(lo - length, hi - length)
            if group_by:
                previous = {
                    k: {m: self._metric_values(a, rows, prev_totals) for m, a in metrics.items()}
                    for k, rows in prev_groups.items()
                }
            else:
                previous = {
                    (): {m: self._metric_values(a, prev_sessions, prev_totals) for m, a in metrics.items()}
                }

        return ordered_rows(group_by, values, previous, metrics, order_key, BUCKETS, COUNTS, comparison)


# -- shared with users_events_oracle: empty time buckets, the order of rows, their shape ------------------


def fill_buckets(
    group_by: list[dict], values: dict, metrics: dict, lo: datetime, hi: datetime, buckets: dict, counts: Any
) -> None:
    """Add the window's empty time buckets (zero `counts`, null averages) for every seen other-level value."""
    levels = [i for i, g in enumerate(group_by) if g["attribute"] in buckets]
    if not levels:
        return
    combos = set()
    d: date = lo.date()
    while d <= hi.date():
        combos.add(tuple(bucket_start(buckets[group_by[i]["attribute"]], d) for i in levels))
        d += timedelta(days=1)
    others = [i for i in range(len(group_by)) if i not in levels]
    seen = [sorted({k[i] for k in values}, key=repr) for i in others]
    for combo in combos:
        for rest in product(*seen):
            key: list[Any] = [None] * len(group_by)
            for i, b in zip(levels, combo, strict=True):
                key[i] = (b, False)
            for i, v in zip(others, rest, strict=True):
                key[i] = v
            if tuple(key) not in values:
                values[tuple(key)] = {m: (0 if m in counts else None) for m in metrics}


def ordered_rows(
    group_by: list[dict], values: dict, previous: dict, metrics: dict, order_key: str, buckets: dict, counts: Any,
    comparison: bool,
) -> list[dict]:
    """The response's rows: buckets in time order, then by the first metric descending, ties by value;
    group values under their names ("others" for the folded group); with comparison, `*_pct_change`."""

    def sort_key(key: tuple) -> tuple:
        parts: list[Any] = [v for g, (v, _) in zip(group_by, key, strict=True) if g["attribute"] in buckets]
        m = values[key][order_key]
        parts.append((m is None, -m if m is not None else 0))
        for g, (v, other) in zip(group_by, key, strict=True):
            if g["attribute"] not in buckets:
                parts.append((other, v is None, v if v is not None else ""))
        return tuple(parts)

    out = []
    for key in sorted(values, key=sort_key):
        row: dict[str, Any] = {}
        for g, (v, other) in zip(group_by, key, strict=True):
            name = g["attribute"] + (f"_{g['property_name']}" if g.get("property_name") else "")
            if other:
                row[name] = "others"
            elif g["attribute"] in buckets:
                row[name] = bucket_label(buckets[g["attribute"]], v)
            else:
                row[name] = v
        row.update(values[key])
        if comparison:
            before = previous.get(key)
            for m in metrics:
                prev = before[m] if before is not None else (0 if m in counts else None)
                cur = values[key][m]
                row[f"{m}_pct_change"] = None if cur is None or not prev else round((cur - prev) / prev * 100, 2)
        out.append(row)
    return out


def matches(key: str, got: Any, want: Any) -> bool:
    """An API value equals the oracle's: floats to 1e-9 relative. A `*_pct_change` is rounded to 2 decimals
    from inputs that may differ in their last bits (a quantile interpolated in another order), so a value
    on a rounding boundary may round either way: it may differ by one unit of that rounding."""
    if got is None or want is None:
        return got is want
    if isinstance(want, bool) or isinstance(got, str) or isinstance(want, str):
        return got == want
    if key.endswith("_pct_change"):
        return abs(got - want) <= 0.01 + 1e-9
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
