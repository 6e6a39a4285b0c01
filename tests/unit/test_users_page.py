"""The users list's page (query/render.py `_render_per_user`) on both embedded engines, against a plain Python
computation over the same documents.

The page of users is cut first, by each user's latest matching upload time, and only then are the page's rows
and totals read. These tests put the rule at its edges: a user whose two latest sessions share an upload
second (the least session id is listed), one of them not matching a filter (the other is listed), filters on
a user's totals (which the page must be cut on the whole relation for), pages across the whole list, and a
second app holding the very same sessions, which must add nothing.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from sessionscope import shape
from sessionscope.catalog import USERS
from sessionscope.demo import generate_sessions
from sessionscope.query.plan import plan_list
from sessionscope.query.render import render_list
from sessionscope.query.validate import parse_list

NOW = datetime(2026, 1, 1)
APPS = ("a" * 24, "b" * 24)
WINDOW = {"attribute": "date_range", "operator": "between_dates",
          "value": {"lower": "2025-12-20T00:00:00Z", "upper": "2025-12-31T23:59:59Z"}}
IOS = {"attribute": "device_platform", "operator": "equal", "value": "ios"}
BUSY = {"attribute": "user_session_count", "operator": "greater", "value": 3}


def _docs() -> list[dict[str, Any]]:
    docs = list(generate_sessions(300, days=14, seed=11, now=NOW.replace(tzinfo=UTC)))
    # one user's two latest sessions uploaded in the same second: the lesser id on Android, the other on iOS
    base = docs[0]
    at = "2025-12-31T20:00:00Z"
    for sid, platform, model in (("tie-b", "ios", "iPhone15,2"), ("tie-a", "android", "SM-S911B"),
                                 ("tie-0", "android", "SM-A546B")):
        doc = copy.deepcopy(base)
        doc["sessionId"] = sid
        doc["user"] = {"uxcamuserid": "tied-user", "alias": "Tied User"}
        doc["device"].update(platform=platform, model=model)
        doc["property"]["uploadedServerTime"] = at if sid != "tie-0" else "2025-12-30T08:00:00Z"
        doc["property"]["deviceLocalDateTime"] = doc["property"]["uploadedServerTime"]
        doc["property"].pop("verifiedServerTime", None)
        docs.append(doc)
    return docs


def _expected(docs: list[dict[str, Any]], filters: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(user, model of the listed session, the user's sessions in the window), in the list's order."""
    lo, hi = datetime(2025, 12, 20), datetime(2025, 12, 31, 23, 59, 59)

    def uploaded(d: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(d["property"]["uploadedServerTime"].replace("Z", ""))

    in_window = [d for d in docs if lo <= uploaded(d) <= hi]
    counts: dict[str, int] = {}
    for d in in_window:
        counts[d["user"]["uxcamuserid"]] = counts.get(d["user"]["uxcamuserid"], 0) + 1

    def matches(d: dict[str, Any]) -> bool:
        for f in filters:
            if f is IOS and d["device"].get("platform") != "ios":
                return False
            if f is BUSY and not counts[d["user"]["uxcamuserid"]] > 3:
                return False
        return True

    latest: dict[str, dict[str, Any]] = {}
    for d in sorted((d for d in in_window if matches(d)), key=lambda d: d["sessionId"]):
        user = d["user"]["uxcamuserid"]
        if user not in latest or uploaded(d) > uploaded(latest[user]):
            latest[user] = d
    rows = sorted(latest.values(), key=lambda d: d["user"]["uxcamuserid"])
    rows.sort(key=uploaded, reverse=True)
    return [(d["user"]["uxcamuserid"], d["device"]["model"], counts[d["user"]["uxcamuserid"]]) for d in rows]


@pytest.mark.parametrize("filters", [[], [IOS], [BUSY], [IOS, BUSY]], ids=["all", "ios", "busy", "ios+busy"])
def test_each_user_is_listed_by_its_latest_matching_session(loaded_store, filters):
    docs = _docs()
    store = loaded_store(APPS, docs, NOW)
    want = _expected(docs, filters)
    assert len(want) > 6  # several pages
    at = {name: shape.USER_COLUMNS.index(name) for name in ("uxcamuserid", "model", "user_session_count")}
    got: list[tuple[str, str, int]] = []
    page_size = 3
    for page in range(1, len(want) // page_size + 3):
        params = {"filters": orjson.dumps([WINDOW, *filters]).decode(), "page": str(page), "page_size": str(page_size)}
        plan = plan_list(APPS[0], parse_list(USERS, params, NOW + timedelta(days=1)), shape.USER_COLUMNS)
        sql, values = render_list(store.dialect, plan)
        # every scan of the tables, the page's and the rows', is confined to the app
        assert sql.count("FROM sessions ") == sql.count("FROM sessions WHERE app_id = ") >= 4
        assert {v for v in (values.values() if isinstance(values, dict) else values) if v in APPS} == {APPS[0]}
        rows = store.query(sql, values)
        assert len(rows) <= page_size + 1  # a page and one more, to tell whether another page follows
        got.extend((r[at["uxcamuserid"]], r[at["model"]], r[at["user_session_count"]]) for r in rows[:page_size])
    assert got == want
    tied = [row for row in got if row[0] == "tied-user"]
    if BUSY not in filters:  # the tied user has three sessions in the window
        assert tied == [("tied-user", "iPhone15,2" if IOS in filters else "SM-S911B", 3)]
    else:
        assert tied == []
