"""DuckDB and chDB give the same answers: one server per engine, the same documents, the same requests,
identical JSON (floats within 1e-9 relative; base URL and appid, which differ by construction, aside)."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from support.data import recent_sessions
from support.engines import ENGINES, store_url
from support.server import Server, ingest

from .analytics_oracle import matches

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
WINDOW = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": f"{NOW - timedelta(days=29):%Y-%m-%d}", "upper": f"{NOW:%Y-%m-%dT%H:%M:%SZ}"},
}

LIST_FILTERS: list[list[dict]] = [
    [],
    [{"attribute": "device_platform", "operator": "equal", "value": "ios"}],
    [{"attribute": "device_model", "operator": "not_contains", "value": "Pixel"}],
    [{"attribute": "device_country", "operator": "in", "value": ["USA", "India", "Nowhere"]}],
    [{"attribute": "device_country", "operator": "not_in", "value": ["USA"]}],
    [{"attribute": "session_duration", "operator": "greater", "value": "60"}],
    [{"attribute": "session_crashed", "operator": "equal", "value": "true"}],
    [{"attribute": "session_screen_list", "operator": "not_has_any", "value": ["CartActivity", "HomeActivity"]}],
    [{"attribute": "event_name", "operator": "in", "value": ["Purchase"]}],
    [{"attribute": "event_name", "operator": "not_equal", "value": "Purchase"}],
    [{"attribute": "event_name", "operator": "in", "value": ["Add to cart"],
      "property": {"name": "price", "operator": "greater", "value": "10"}}],
    [{"attribute": "event_custom_property", "property_name": "method", "operator": "not_contains", "value": "a"}],
    [{"attribute": "user_custom_property", "property_name": "plan", "operator": "not_equal", "value": "free"}],
    [{"attribute": "user_custom_property", "property_name": "age", "operator": "less_or_equal", "value": 30}],
    [{"attribute": "session_number_of_user", "operator": "equal", "value": 1}],
    [{"attribute": "date_range", "operator": "not_on", "value": f"{NOW - timedelta(days=3):%Y-%m-%d}"}],
]
GROUPS = [
    {"attribute": "device_model", "max_group_number": 4},
    {"attribute": "device_platform"},
    {"attribute": "session_crashed"},
    {"attribute": "device_country", "max_group_number": 3},
    {"attribute": "user_custom_property", "property_name": "plan"},
    {"attribute": "app_version", "max_group_number": 2},
    {"attribute": "session_uploadedon_day"},
    {"attribute": "session_uploaded_week"},
    {"attribute": "session_uploaded_month"},
]
AGGREGATIONS = [
    {"attribute": "session_duration", "operator": "p95"},
    {"attribute": "session_duration", "operator": "p50"},
    {"attribute": "session_gesture_count", "operator": "sum"},
    {"attribute": "session_rage_gesture_count", "operator": "max"},
    {"attribute": "session_crashed", "operator": "avg"},
    {"attribute": "user_custom_property", "property_name": "age", "operator": "avg"},
    {"attribute": "user_session_count", "operator": "avg"},
    {"attribute": "user_session_duration", "operator": "p90"},
    {"attribute": "session_unique_user_count", "operator": ""},
    {"attribute": "session_new_users_count", "operator": ""},
]


def requests() -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for filters in LIST_FILTERS:
        out.append(("/v2/session", {"filters": [WINDOW, *filters], "page_size": 500}))
    out.append(("/v2/session", {"filters": [WINDOW], "page": 4, "page_size": 37}))
    out.append(("/v2/session", {}))
    rng = random.Random(2024)
    out.append(("/v2/session/analytics", {}))
    out.append(("/v2/session/analytics", {"comparison": 1}))
    for _ in range(40):
        params: dict[str, Any] = {"filters": [WINDOW, *rng.choice(LIST_FILTERS)]}
        levels = rng.choice([0, 1, 1, 2])
        if levels:
            params["group_by"] = rng.sample(GROUPS, levels)
        if rng.random() < 0.6:
            params["aggregation"] = rng.sample(AGGREGATIONS, rng.randint(1, 3))
        if rng.random() < 0.3:
            params["comparison"] = 1
        params["page_size"] = 500
        out.append(("/v2/session/analytics", params))
    return out


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory):
    docs_a = list(recent_sessions(1_500, days=29, seed=71, now=NOW))
    docs_b = list(recent_sessions(300, days=29, seed=72, now=NOW))
    running = {}
    for engine in ENGINES:
        data_dir = tmp_path_factory.mktemp(f"agree-{engine}")
        server = Server(data_dir=data_dir, store_url=store_url(engine, data_dir))
        a, b = server.create_app("a"), server.create_app("b")
        server.start()
        client = server.client()
        for creds, docs in ((a, docs_a), (b, docs_b)):
            for body in ingest(client, creds, docs, batch=500):
                assert body["rejected"] == []
        running[engine] = (server, client, a)
    yield running
    for server, client, _ in running.values():
        client.close()
        server.stop()


def _get(running, engine: str, path: str, params: dict[str, Any]) -> Any:
    server, client, creds = running[engine]
    query = {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in params.items()}
    r = client.get(path, params=query, headers=creds.read_headers)
    assert r.status_code == 200, r.text
    text = r.text.replace(server.base_url, "BASE").replace(creds.appid, "APPID")
    return json.loads(text)


def assert_same(a: Any, b: Any, path: str = "$") -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), (path, a, b)
        key = path.rsplit(".", 1)[-1]
        if key.split("_", 1)[0] in ("p50", "p90", "p95", "p99"):
            assert a == b, (path, a, b)  # percentiles are settled to 12 digits: the same on both engines
        assert matches(key, a, b), (path, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), (path, a, b)
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (path, len(a), b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


def _in_one_second(running, path: str, params: dict[str, Any]) -> list[Any]:
    """Every engine's answer, all fetched within one second of the clock: a request without a date window is
    answered for the window ending at its own second (its data and its dashboard_link), so answers fetched
    across a second boundary may rightly differ."""
    for _ in range(5):
        start = int(time.time())
        answers = [_get(running, engine, path, params) for engine in ENGINES]
        if int(time.time()) == start:
            return answers
    raise AssertionError(f"could not fetch {path} from every engine within one second")


def test_every_request_gets_the_same_json_on_both_engines(servers) -> None:
    nonempty = 0
    for path, params in requests():
        answers = _in_one_second(servers, path, params)
        assert_same(answers[0], answers[1], f"{path} {json.dumps(params)}")
        nonempty += bool(answers[0]["data"])
    assert nonempty > 40  # the requests select something: the agreement is not over empty answers


def test_the_engines_hold_the_same_rows(servers) -> None:
    """Every stored session, all fields, sessionNumber included (ingested in batches, out of start order)."""
    rows = []
    for engine in ENGINES:
        got, page = [], 1
        while page:
            body = _get(servers, engine, "/v2/session", {"filters": [WINDOW], "page": page, "page_size": 500})
            got += body["data"]
            page = body["pagination"]["next"]
        rows.append(got)
    assert len(rows[0]) == 1_500
    assert_same(rows[0], rows[1])


def test_the_dashboard_lists_the_sessions_of_a_user_link_alike(servers) -> None:
    """A user analytics row's link (user conditions on the users relation) lists the same sessions, in the
    same order and count, on both engines, page 1 and a later page."""
    import re

    import httpx

    user_filters = [WINDOW, {"attribute": "user_session_count", "operator": "greater", "value": 2},
                    {"attribute": "user_first_seen_on", "operator": "after", "value": "2000-01-01"}]
    shown = []
    for engine in ENGINES:
        server, client, creds = servers[engine]
        (row,) = _get(servers, engine, "/v2/user/analytics", {"filters": user_filters})["data"]
        link = row["dashboard_link"].replace("BASE", "")
        with httpx.Client(base_url=server.base_url, timeout=60) as browser:
            r = browser.post("/login", data={"appid": creds.appid, "apikey": creds.apikey, "next": ""})
            assert r.status_code == 303, r.text
            pages = []
            for n in (1, 3):
                page = browser.get(link.replace("APPID", creds.appid).replace("/list/1?", f"/list/{n}?"))
                assert page.status_code == 200, page.text[:300]
                count = int(re.search(r'data-count="(\d+)"', page.text).group(1))
                pages.append((count, list(dict.fromkeys(re.findall(r"/sessions/list/\d+/([^?\"/]+)\?", page.text)))))
        shown.append(pages)
    assert shown[0] == shown[1]
    (count, first), (_, third) = shown[0]
    assert count > 75 and len(first) == len(third) == 25 and not set(first) & set(third)


def test_a_comparison_over_centuries_is_answered_alike(servers) -> None:
    """The period before 1970-2999 would start in the year 940: ClickHouse read no such date (a 500 on chDB
    only). It is cut at 1900-01-01, the earliest a filter takes; nothing is stored before 1970, so the
    previous period holds nothing and every change is null. The window's last second counts too."""
    whole = {"attribute": "date_range", "operator": "between_dates", "value": {"lower": "1970-01-01", "upper": "2999-12-31T23:59:59Z"}}
    for path, count in (("/v2/session/analytics", "session_count"), ("/v2/user/analytics", "user_count"),
                        ("/v2/event/analytics", "event_count")):
        month = "event_uploaded_month" if path.startswith("/v2/event") else "session_uploaded_month"
        for group_by in ([], [{"attribute": month}]):
            params = {"filters": [whole], "comparison": 1, "group_by": group_by}
            answers = _in_one_second(servers, path, params)
            assert_same(answers[0], answers[1], f"{path} {json.dumps(params)}")
            rows = answers[0]["data"]
            assert rows and all(row[f"{count}_pct_change"] is None for row in rows), rows[:2]
            if path == "/v2/session/analytics" and not group_by:  # (months run from 1970, a page at a time)
                assert rows[0]["session_count"] == 1_500
