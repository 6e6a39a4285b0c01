"""The events list's page cut on its sort keys first (query/render.py `_render_keys_first`), on both embedded
engines, against a plain Python computation over the same documents.

The keys come from the events table alone; a filter on the session tests the event's session id against
the matching sessions (a semi-join, not the join), and when every filter is the session's, against the first
matching sessions that have events only; the page's rows are then read by (session id, sequence number)
within the page's times. These tests cover filters on the event, on the session and on both, sessions
uploaded in the same second (ordered by session id, then by the events' order), sessions with no events at
the top of the list, every page, and a second app holding the very same sessions and events, which must add
nothing.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from sessionscope import shape
from sessionscope.catalog import EVENTS
from sessionscope.demo import generate_sessions
from sessionscope.query.plan import plan_list
from sessionscope.query.render import render_list
from sessionscope.query.validate import parse_list

NOW = datetime(2026, 1, 1)
APPS = ("a" * 24, "b" * 24)
WINDOW = {"attribute": "date_range", "operator": "between_dates",
          "value": {"lower": "2025-12-24T00:00:00Z", "upper": "2025-12-31T23:59:59Z"}}
CART = {"attribute": "event_name", "operator": "in", "value": ["Add to cart", "View Product"]}  # the event itself
IOS = {"attribute": "device_platform", "operator": "equal", "value": "ios"}  # its session


def _docs() -> list[dict[str, Any]]:
    docs = [d for d in generate_sessions(200, days=10, seed=5, now=NOW.replace(tzinfo=UTC)) if d.get("events")]
    # three sessions uploaded in the same second, sent in no particular order
    for sid in ("same-c", "same-a", "same-b"):
        doc = copy.deepcopy(docs[0])
        doc["sessionId"] = sid
        doc["property"]["uploadedServerTime"] = "2025-12-31T21:00:00Z"
        doc["property"].pop("verifiedServerTime", None)
        doc["device"]["platform"] = "ios"
        doc["events"][0]["name"] = "Add to cart"
        docs.append(doc)
    # iOS sessions with no events: the 60 newest (more than a page's sessions), and some spread over the
    # window. A page cut on the first matching sessions must count only those with events
    for i in range(80):
        doc = copy.deepcopy(docs[0])
        doc["sessionId"] = f"quiet-{i:02d}"
        when = f"2025-12-31T{22 + i // 30:02d}:{i % 30 * 2:02d}:00Z" if i < 60 else f"2025-12-{30 - i % 6:02d}T12:00:00Z"
        doc["property"]["uploadedServerTime"] = when
        doc["property"].pop("verifiedServerTime", None)
        doc["device"]["platform"] = "ios"
        doc["events"] = []
        docs.append(doc)
    return docs


def _expected(docs: list[dict[str, Any]], filters: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    """(session id, the event's position in its session, name), newest session first."""
    lo, hi = datetime(2025, 12, 24), datetime(2025, 12, 31, 23, 59, 59)
    rows = []
    for d in docs:
        uploaded = datetime.fromisoformat(d["property"]["uploadedServerTime"].replace("Z", ""))
        if not lo <= uploaded <= hi or (IOS in filters and d["device"].get("platform") != "ios"):
            continue
        for seq, e in enumerate(d["events"]):
            if CART not in filters or e["name"] in CART["value"]:
                rows.append((uploaded, d["sessionId"], seq, e["name"]))
    rows.sort(key=lambda r: (-r[0].timestamp(), r[1], r[2]))
    return [r[1:] for r in rows]


@pytest.mark.parametrize("filters", [[], [CART], [IOS], [CART, IOS]], ids=["all", "event", "session", "both"])
def test_events_are_paged_newest_session_first(loaded_store, filters):
    docs = _docs()
    store = loaded_store(APPS, docs, NOW)
    want = _expected(docs, filters)
    page_size = 40
    assert len(want) > 3 * page_size
    at = [shape.EVENT_COLUMNS.index(name) for name in ("session_id", "ev_seq", "ev_name")]
    got: list[tuple[str, int, str]] = []
    for page in range(1, len(want) // page_size + 3):
        params = {"filters": orjson.dumps([WINDOW, *filters]).decode(), "page": str(page), "page_size": str(page_size)}
        plan = plan_list(APPS[0], parse_list(EVENTS, params, NOW + timedelta(days=1)), shape.EVENT_COLUMNS)
        sql, values = render_list(store.dialect, plan)
        # every scan of the tables, the page's and the rows', is confined to the app
        assert sql.count("FROM events ") == sql.count("FROM events WHERE app_id = ") >= 1
        assert sql.count("FROM sessions ") == sql.count("FROM sessions WHERE app_id = ") >= 1
        # the keys first, from the events alone: a filter on the session is a semi-join on the session id, and
        # when every filter is the session's, on the first offset + limit matching sessions that have events
        keys_sql = sql.split(") SELECT ", 1)[0]
        assert "JOIN" not in keys_sql and "FROM events " in keys_sql
        assert ("FROM sessions " in keys_sql) == (IOS in filters)
        assert ("candidates AS" in keys_sql) == (filters == [IOS])
        assert sql.count("FROM sessions ") == (2 if IOS in filters else 1)  # and once for the page's rows
        assert {v for v in (values.values() if isinstance(values, dict) else values) if v in APPS} == {APPS[0]}
        rows = store.query(sql, values)
        assert len(rows) <= page_size + 1
        got.extend(tuple(r[i] for i in at) for r in rows[:page_size])
    assert got == want
    same = [row for row in got if row[0].startswith("same-")]
    assert [row[0] for row in same] == sorted(row[0] for row in same) and same
