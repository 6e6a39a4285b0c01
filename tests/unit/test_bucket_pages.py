"""Time-bucket series over the widest window the API accepts, on both embedded engines.

Every series has every bucket of its window (SPEC §6.3), so a day series from 1900 to 2999 by platform is
401,768 days x 3 platforms = 1.2M rows, nearly all of them empty. The pages are checked against plain
Python over the documents, by position (each day is a run of one row per platform, ordered by session
count, then by value, a missing value last); and the rows are made for the page only: before, the whole
series was made and sorted for every page (48 s and 5 GB of server memory for one request by 1,000 values).
"""

from __future__ import annotations

import copy
import json
import math
import tracemalloc
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from sessionscope.analytics import session_analytics
from sessionscope.demo import generate_sessions
from sessionscope.settings import Settings

NOW = datetime(2026, 1, 1)
APP = "c" * 24
FIRST, LAST = date(1900, 1, 1), date(2999, 12, 31)
DAYS = (LAST - FIRST).days + 1
WIDEST = {"attribute": "date_range", "operator": "between_dates", "value": {"lower": f"{FIRST}", "upper": f"{LAST}"}}
GROUP_BY = [{"attribute": "device_platform"}, {"attribute": "session_uploadedon_day"}]
PLATFORMS = ["android", "ios", None]  # the order of a day's empty rows: by value, a missing one last


def _docs() -> list[dict[str, Any]]:
    docs = list(generate_sessions(120, days=10, seed=5, now=NOW.replace(tzinfo=UTC)))
    for doc in docs[::20]:  # six sessions without a platform: the series of a missing value
        doc = copy.deepcopy(doc)
        doc["sessionId"] += "-noplatform"
        doc["device"].pop("platform")
        docs.append(doc)
    return docs


DOCS = _docs()
COUNTS = Counter(
    (date.fromisoformat(d["property"]["uploadedServerTime"][:10]), d["device"].get("platform")) for d in DOCS
)


def _expected_day(day: date) -> list[tuple[Any, str, int]]:
    """A day's run of rows: (platform, day, session count), by count descending, then by value."""
    rows = [(p, COUNTS[(day, p)]) for p in PLATFORMS]
    rows.sort(key=lambda r: (-r[1], r[0] is None, r[0] or ""))
    return [(p, day.isoformat(), n) for p, n in rows]


def _page(store: Any, page: int, page_size: int) -> dict[str, Any]:
    params = {"filters": json.dumps([WIDEST]), "group_by": json.dumps(GROUP_BY),
              "page": str(page), "page_size": str(page_size)}
    return session_analytics(store, Settings(), APP, params, NOW)


def _rows(body: dict[str, Any]) -> list[tuple[Any, str, int]]:
    return [(r["device_platform"], r["session_uploadedon_day"], r["session_count"]) for r in body["data"]]


@pytest.fixture
def store(loaded_store: Any) -> Any:
    return loaded_store((APP,), DOCS, NOW)


def test_every_day_with_sessions_is_in_its_place(store: Any) -> None:
    days = sorted({day for day, _ in COUNTS})
    assert len(days) == 10 and {p for _, p in COUNTS} == set(PLATFORMS)
    size = 2  # a day's run of three rows spans two pages
    for day in days:
        first = (day - FIRST).days * len(PLATFORMS)  # the position of the day's first row
        pages = range(first // size + 1, (first + len(PLATFORMS) - 1) // size + 2)
        got = [row for p in pages for row in _rows(_page(store, p, size))]
        skip = first - (pages[0] - 1) * size
        assert got[skip : skip + len(PLATFORMS)] == _expected_day(day), day
        # the rows around the run are the neighbouring days'
        around = [*_expected_day(day - timedelta(days=1)), *_expected_day(day), *_expected_day(day + timedelta(days=1))]
        assert got == around[len(PLATFORMS) - skip : len(PLATFORMS) - skip + len(got)]
    assert sum(n for row in days for _, _, n in _expected_day(row)) == len(DOCS)


def test_the_first_and_last_pages_of_the_widest_window(store: Any) -> None:
    first = _page(store, 1, 5)
    assert _rows(first) == [*_expected_day(FIRST), *_expected_day(FIRST + timedelta(days=1))][:5]
    assert first["pagination"] == {"current": 1, "next": 2, "total": 5}
    total = DAYS * len(PLATFORMS)
    size = 500
    last = math.ceil(total / size)
    end = _page(store, last, size)
    assert end["pagination"] == {"current": last, "next": None, "total": total - (last - 1) * size}
    assert _rows(end)[-len(PLATFORMS) :] == _expected_day(LAST)
    assert _page(store, last - 1, size)["pagination"]["next"] == last
    assert _page(store, last + 1, size)["data"] == []


def test_a_page_holds_its_rows_only(store: Any) -> None:
    day = max(day for day, _ in COUNTS)
    page = (day - FIRST).days * len(PLATFORMS) // 50 + 1
    tracemalloc.start()
    try:
        body = _page(store, page, 50)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert _expected_day(day)[0] in _rows(body)
    # the whole series (1.2M rows, each a key and a list of nine metrics) is hundreds of MB
    assert peak < 20 * 2**20, peak
