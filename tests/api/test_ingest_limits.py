"""Limits that keep what is stored summable and every string bounded (found by a helper's round-trip fuzz).

- A session's counts are at most 1,000,000,000 and its duration at most 1e9 s: two sessions of one user at
  2^63 - 1 gestures were accepted, and their user's total overflowed (2^63 on DuckDB, -2^63 on chDB; the
  user export broke off mid-body).
- The 100-property limit counts properties, not nulls (100 properties and a null were refused or taken
  depending on how long the values were).
- The 1,024-character limit holds for property names, utm parameter names and web's own extra keys too."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from support.engines import store_url
from support.server import one_app

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
ALL_TIME = [{"attribute": "date_range", "operator": "between_dates", "value": {"lower": "2000-01-01", "upper": "2099-12-31"}}]
BILLION = 10**9


def doc(sid: str, who: str = "u", /, **sections: dict) -> dict:
    prop = {"uploadedServerTime": (NOW - timedelta(minutes=len(sid))).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **sections.pop("property", {})}
    return {"sessionId": sid, "user": {"uxcamuserid": who, **sections.pop("user", {})}, "property": prop, **sections}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, engine: str):  # type: ignore[no-untyped-def]
    data_dir = tmp_path_factory.mktemp(f"limits-{engine}")
    with one_app(data_dir, store_url(engine, data_dir), "limits") as served:
        yield served


def post(server, docs: list[dict]) -> dict:  # type: ignore[no-untyped-def]
    _, client, app = server
    r = client.post("/v2/ingest/sessions", json=docs, headers=app.ingest_headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_counts_and_durations_at_their_limits_add_up_exactly(server) -> None:  # type: ignore[no-untyped-def]
    srv, client, app = server
    at_limit = {"totalGesture": BILLION, "rageGestureCount": BILLION, "durationSec": 1e9}
    assert post(server, [doc("big-1", "heavy", property=at_limit), doc("big-2", "heavy", property=at_limit)])["accepted"] == 2
    over = post(server, [
        doc("over-1", "heavy", property={"totalGesture": 2**63 - 1}),
        doc("over-2", "heavy", property={"durationSec": 1e300, "rageGestureCount": -1}),
    ])
    assert over["accepted"] == 0
    assert [r["errors"] for r in over["rejected"]] == [
        ["property.totalGesture: must be at most 1,000,000,000"],
        ["property.durationSec: must be at most 1,000,000,000", "property.rageGestureCount: must be an integer ≥ 0"],
    ]
    r = client.get("/v2/user", params={"filters": json.dumps(ALL_TIME)}, headers=app.read_headers)
    usage = next(u for u in r.json()["data"] if u["uxcamUserId"] == "heavy")["usage"]
    assert usage["totalGesture"] == 2 * BILLION and usage["rageGestureCount"] == 2 * BILLION
    assert usage["totalSessionTime"] == 2e9
    r = client.get("/v2/session/analytics", headers=app.read_headers, params={
        "filters": json.dumps(ALL_TIME),
        "aggregation": json.dumps([{"attribute": "session_gesture_count", "operator": "sum"},
                                   {"attribute": "user_gesture_count", "operator": "max"}]),
    })
    row = r.json()["data"][0]
    assert row["sum_session_gesture_count"] == 2 * BILLION and row["max_user_gesture_count"] == 2 * BILLION
    # the user export reads to its end
    exported = httpx.get(f"{srv.base_url}/v2/user/export", params={"format": "ndjson", "filters": json.dumps(ALL_TIME)},
                         headers=app.read_headers, timeout=60)
    assert exported.status_code == 200
    users = {json.loads(line)["uxcamUserId"]: json.loads(line) for line in exported.text.splitlines()}
    assert users["heavy"]["usage"]["totalGesture"] == 2 * BILLION


def test_the_property_limit_counts_properties_not_nulls(server) -> None:  # type: ignore[no-untyped-def]
    for width in (1, 20):  # short values take a quick path, long ones the careful one: the same answer
        props = {f"p{i}": "v" * width for i in range(100)} | {"gone": None}
        events = [{"name": "e", "timeSec": 1.0, "properties": props}]
        assert post(server, [doc(f"props-{width}", events=events)])["accepted"] == 1, width
        events = [{"name": "e", "timeSec": 1.0, "properties": props | {"one-more": "x"}}]
        got = post(server, [doc(f"props-more-{width}", events=events)])
        assert got["rejected"][0]["errors"] == ["events[0].properties: at most 100 properties allowed (got 101)"], width


@pytest.mark.parametrize(
    ("sections", "error"),
    [
        ({"user": {"k" * 1025: 1}}, "user: a property name must be at most 1024 characters (got 1025)"),
        ({"events": [{"name": "e", "timeSec": 1.0, "properties": {"k" * 1025: 1}}]},
         "events[0].properties: a property name must be at most 1024 characters (got 1025)"),
        ({"web": {"utm": {"k" * 1025: "v"}}}, "web.utm: a parameter name must be at most 1024 characters (got 1025)"),
        ({"web": {"somethingElse": "y" * 1025}}, "web.somethingElse: must be at most 1024 characters (got 1025)"),
    ],
)
def test_names_and_web_extras_are_held_to_the_string_limit(server, sections: dict, error: str) -> None:  # type: ignore[no-untyped-def]
    got = post(server, [doc("long-name", **sections)])
    assert got["accepted"] == 0 and got["rejected"][0]["errors"] == [error]
    # at the limit they are taken
    fits = json.loads(json.dumps(sections).replace("k" * 1025, "k" * 1024).replace("y" * 1025, "y" * 1024))
    assert post(server, [doc("long-name-fits", **fits)])["accepted"] == 1
