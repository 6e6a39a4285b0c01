"""The date window of SPEC §4.1, computed from the date_range filters and a given "now"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ..errors import bad_request, json_kind
from .spec import Window

DEFAULT_DAYS = 30
# Accepted filter dates: wide enough for any real query, narrow enough that window arithmetic
# (previous windows for comparison, 30-day spans) can never overflow.
EARLIEST = datetime(1900, 1, 1)
LATEST = datetime(2999, 12, 31, 23, 59, 59)  # the end of the last day
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
# what a filter date may look like: a day, or a day and a time of day (seconds and their fraction optional)
# with an optional UTC offset
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?)?")


def parse_time(value: object, *, param: str, path: str, end_of_day: bool = False) -> tuple[datetime, bool]:
    """Parse "YYYY-MM-DD" or an ISO-8601 UTC datetime; returns (naive UTC datetime, was_date_only)."""
    if not isinstance(value, str):
        raise bad_request(
            f"{param}{path}: expected a date string like \"2023-01-19\" or \"2023-01-19T11:23:12Z\", got {json_kind(value)}",
            param=param,
            path=path,
        )
    text = value.strip()
    try:
        if not _DATE_TEXT.fullmatch(text):
            raise ValueError(text)  # fromisoformat would also read "20230119", "2023-W03" and other spellings
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d")
            if not EARLIEST <= day <= LATEST:
                raise bad_request(
                    f"{param}{path}: {value!r} is out of range; dates run from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}",
                    param=param,
                    path=path,
                )
            return (day + DAY - SECOND if end_of_day else day), True
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise bad_request(
            f"{param}{path}: {value!r} is not a date; use \"2023-01-19\" or \"2023-01-19T11:23:12Z\" (UTC)",
            param=param,
            path=path,
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    result = parsed.replace(microsecond=0)
    if not EARLIEST <= result <= LATEST:
        raise bad_request(
            f"{param}{path}: {value!r} is out of range; dates run from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}",
            param=param,
            path=path,
        )
    return result, False


def default_window(now: datetime) -> Window:
    return Window(lo=now - timedelta(days=DEFAULT_DAYS), hi=now)


def window_for(operator: str, value: object, now: datetime, *, param: str, path: str) -> Window:
    """The window one date_range filter selects."""
    if operator == "on":
        day, _ = parse_time(value, param=param, path=path)
        start = day.replace(hour=0, minute=0, second=0)
        return Window(start, start + DAY - SECOND)
    if operator == "before":
        t, _ = parse_time(value, param=param, path=path)
        return Window(t - timedelta(days=DEFAULT_DAYS), t - SECOND)
    if operator == "after":
        t, _ = parse_time(value, param=param, path=path)
        return Window(t + SECOND, now)
    if operator == "not_on":
        day, _ = parse_time(value, param=param, path=path)
        start = day.replace(hour=0, minute=0, second=0)
        base = default_window(now)
        return Window(base.lo, base.hi, ((start, start + DAY - SECOND),))
    if operator == "between_dates":
        if not isinstance(value, dict) or "lower" not in value or "upper" not in value:
            raise bad_request(
                f'{param}{path}: between_dates takes {{"lower": "2023-01-01", "upper": "2023-01-19"}}',
                param=param,
                path=path,
            )
        lo, _ = parse_time(value["lower"], param=param, path=f"{path}.lower")
        hi, _ = parse_time(value["upper"], param=param, path=f"{path}.upper", end_of_day=True)
        if lo > hi:
            raise bad_request(f"{param}{path}: lower must not be after upper", param=param, path=path)
        return Window(lo, hi)
    raise AssertionError(operator)  # the validator only passes date operators


def intersect(windows: list[Window], now: datetime) -> Window:
    """All date_range filters must hold: the intersection of their windows (default when none).

    `not_on` only removes its day: with another date filter it narrows that filter's window, and
    alone it narrows the default window (so a dashboard link with a between_dates window and a
    not_on keeps its whole window whenever it is opened).
    """
    bounded = [w for w in windows if not w.excluded]
    excluded = tuple(e for w in windows for e in w.excluded)
    if not bounded:
        base = default_window(now)
        return Window(base.lo, base.hi, excluded)
    return Window(max(w.lo for w in bounded), min(w.hi for w in bounded), excluded)


def condition_range(operator: str, value: object, now: datetime, *, param: str, path: str) -> Window:
    """The range a DateTime condition (user_first_seen_on) accepts: like a date_range window, except that a
    condition needs no lower bound, so `before D` is every time before D, and `not_on D` only leaves out day D
    (not the default window minus D)."""
    if operator == "before":
        t, _ = parse_time(value, param=param, path=path)
        return Window(EARLIEST, t - SECOND)
    if operator == "after":
        t, _ = parse_time(value, param=param, path=path)
        return Window(t + SECOND, LATEST)
    if operator == "not_on":
        day, _ = parse_time(value, param=param, path=path)
        start = day.replace(hour=0, minute=0, second=0)
        return Window(EARLIEST, LATEST, ((start, start + DAY - SECOND),))
    return window_for(operator, value, now, param=param, path=path)
