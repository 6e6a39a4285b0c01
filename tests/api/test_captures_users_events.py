"""Replay every `/v2/user`, `/v2/user/analytics`, `/v2/event` and `/v2/event/analytics` request captured from
the live UXCam API against a real server, on every engine.

Each request is sent as real clients send it (the raw query string), with only the base URL and the
credentials swapped. It must answer 200 with the reference's shape (row keys in the reference's order, the
nested keys and their JSON types), and the numbers must be the independent oracle's (`users_events_oracle`).

The store holds two generations of sessions, like the session list replay: recent ones (inside the default
30-day window) and ones from Dec 2022–Jan 2023, the period of the captures, so that their dates find rows.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from sessionscope.demo import generate_sessions
from support.data import recent_sessions
from support.engines import store_url
from support.server import Server, ingest

from .list_oracle import DEFAULT_WINDOW, END_OF_DAY, is_date_only, parse_time
from .users_events_oracle import EventsOracle, UsersOracle

CAPTURES = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "uxcam-v2-captures.json").read_text())
BASES = ("{{API_BASE_URL}}", "https://api.uxcam.com/v2")


def _endpoint(capture: dict) -> str:
    path = capture["request_url"].split("?", 1)[0]
    for b in BASES:
        if path.startswith(b):
            return path[len(b) :]
    raise AssertionError(path)


REPLAYED = [c for c in CAPTURES if _endpoint(c) in ("/user", "/user/analytics", "/event", "/event/analytics")]


def json_type(v: Any) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def _reference_rows(endpoint: str) -> list[dict]:
    return [r for c in REPLAYED if _endpoint(c) == endpoint and isinstance(c["body"]["data"], list) for r in c["body"]["data"]]


def _section_types(rows: list[dict], fixed: tuple[str, ...]) -> dict[str, dict[str, set[str]]]:
    """For the sections whose keys are fixed: every key the reference rows carry, and its JSON types."""
    out: dict[str, dict[str, set[str]]] = {s: {} for s in fixed}
    for row in rows:
        for section in fixed:
            for k, v in row[section].items():
                out[section].setdefault(k, set()).add(json_type(v))
    return out


USER_ROWS = _reference_rows("/user")
EVENT_ROWS = _reference_rows("/event")
USER_KEYS = list(USER_ROWS[0])
EVENT_KEYS = list(EVENT_ROWS[0])
USER_SECTIONS = _section_types(USER_ROWS, ("usage", "location", "device"))
EVENT_SECTIONS = _section_types(EVENT_ROWS, ("sessionProperty", "device"))


def test_the_captures_are_the_ones_expected() -> None:
    by_endpoint: dict[str, int] = {}
    for c in REPLAYED:
        by_endpoint[_endpoint(c)] = by_endpoint.get(_endpoint(c), 0) + 1
    assert by_endpoint == {"/user": 21, "/user/analytics": 22, "/event": 11, "/event/analytics": 17}
    assert USER_KEYS == ["uxcamUserId", "userId", "url", "property", "usage", "location", "device"]
    assert EVENT_KEYS[:4] == ["eventId", "eventName", "eventScreen", "eventDate"]
    assert USER_SECTIONS["usage"]["totalSessionTime"] == {"number"}
    assert EVENT_SECTIONS["device"]["platform"] == {"number"}


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory, engine: str):
    data_dir = tmp_path_factory.mktemp(f"captures-ue-{engine}")
    server = Server(data_dir=data_dir, store_url=store_url(engine, data_dir))
    creds = server.create_app("captures")
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    recent = list(recent_sessions(700, days=29, seed=55, now=now))
    then = list(generate_sessions(900, days=29, seed=66, now=datetime(2023, 1, 19, 18, 0, tzinfo=UTC)))
    docs = recent + then
    server.start()
    client = httpx.Client(timeout=120)
    try:
        for body in ingest(server.client(), creds, docs, batch=800):
            assert body["rejected"] == []
        yield server, creds, client, UsersOracle(docs), EventsOracle(docs)
    finally:
        client.close()
        server.stop()


def local_url(server: Server, creds, capture: dict) -> str:
    url = capture["request_url"]
    for b in BASES:
        if url.startswith(b):
            url = f"{server.base_url}/v2" + url[len(b) :]
    url = re.sub(r"([?&])appid=[^&]*", lambda m: f"{m.group(1)}appid={creds.appid}", url)
    return re.sub(r"([?&])apikey=[^&]*", lambda m: f"{m.group(1)}apikey={creds.apikey}", url)


def query_params(url: str) -> dict[str, str]:
    query = url.split("?", 1)[1]
    return {k: unquote(v) for k, _, v in (p.partition("=") for p in query.split("&"))}


def window(filters: list[dict], now: datetime) -> tuple[datetime, datetime]:
    """The [lo, hi] of the request's date_range filters (the captures use at most one, never not_on)."""
    lo, hi = now - DEFAULT_WINDOW, now
    for f in filters:
        if f["attribute"] != "date_range":
            continue
        op, v = f["operator"], f["value"]
        if op == "on":
            lo = parse_time(v)
            hi = lo + END_OF_DAY
        elif op == "before":
            hi = parse_time(v) - timedelta(seconds=1)
            lo = parse_time(v) - DEFAULT_WINDOW
        elif op == "after":
            lo = parse_time(v) + timedelta(seconds=1)
        elif op == "between_dates":
            lo, hi = parse_time(v["lower"]), parse_time(v["upper"])
            if is_date_only(v["upper"]):
                hi += END_OF_DAY
    return lo, hi


def close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def check_types(row: dict, sections: dict[str, dict[str, set[str]]]) -> None:
    for section, keys in sections.items():
        assert list(row[section]) == list(keys), (section, list(row[section]))
        for k, types in keys.items():
            if row[section][k] is not None:
                assert json_type(row[section][k]) in types, (section, k, row[section][k], types)


@pytest.mark.parametrize("capture", REPLAYED, ids=[f"{i}-{c['name']}" for i, c in enumerate(REPLAYED)])
def test_capture_replays_with_the_reference_shape_and_the_oracles_numbers(replay, capture: dict) -> None:
    server, creds, client, users, events = replay
    endpoint = _endpoint(capture)
    url = local_url(server, creds, capture)
    params = query_params(url)
    filters = json.loads(params.get("filters", "[]"))
    page, page_size = int(params.get("page", 1)), int(params.get("page_size", 50))

    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    r = client.get(url)
    assert r.status_code == 200, r.text
    body = r.json()
    comparison_of_totals = "comparison" in params and "group_by" not in params
    assert list(body) == (["success", "data"] if comparison_of_totals else ["success", "data", "pagination"])
    assert body["success"] is True and isinstance(body["data"], list)

    if endpoint == "/user":
        want = users.listing(filters, now)
        rows = want[(page - 1) * page_size : page * page_size]
        assert [row["uxcamUserId"] for row in body["data"]] == [w["uxcamUserId"] for w in rows]
        for got, exp in zip(body["data"], rows, strict=True):
            assert list(got) == USER_KEYS
            check_types(got, USER_SECTIONS)
            assert got["url"] == f"{server.base_url}/app/{creds.appid}/users/list/1/{got['uxcamUserId']}"
            for k in ("userId", "property", "location", "device"):
                assert got[k] == exp[k], k
            assert list(got["property"]) == list(exp["property"])
            for k, v in exp["usage"].items():
                assert close(got["usage"][k], v), (k, got["usage"][k], v)
    elif endpoint == "/event":
        want = events.listing(filters, now)
        rows = want[(page - 1) * page_size : page * page_size]
        assert [(row["sessionProperty"]["sessionId"], row["eventPropertyTime"]) for row in body["data"]] == [
            (e.session.sid, float(e.event["timeSec"])) for e in rows
        ]
        for got, e in zip(body["data"], rows, strict=True):
            assert list(got) == EVENT_KEYS
            check_types(got, EVENT_SECTIONS)
            assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", got["eventId"])
            assert got["url"] == f"{server.base_url}/app/{creds.appid}/sessions/list/1/{e.session.sid}"
            exp = EventsOracle.event_row(e)
            assert {k: v for k, v in got.items() if k not in ("eventId", "url")} == exp
    else:
        oracle = users if endpoint == "/user/analytics" else events
        group_by = json.loads(params["group_by"]) if "group_by" in params else None
        aggregation = json.loads(params["aggregation"]) if "aggregation" in params else None
        lo, hi = window(filters, now)
        expected = oracle.answer(
            lo, hi, filters, group_by, aggregation, comparison=params.get("comparison") in ("1", "true")
        )
        if not comparison_of_totals:
            expected = expected[(page - 1) * page_size : page * page_size]
        reference_keys = [k for k in capture["body"]["data"][0] if not k.endswith("_pct_change")] if capture["body"]["data"] else None
        assert len(body["data"]) == len(expected)
        for got, exp in zip(body["data"], expected, strict=True):
            if reference_keys:
                assert [k for k in got if not k.endswith("_pct_change")] == reference_keys
            assert [k for k in got if k != "dashboard_link"] == list(exp)
            for k, v in exp.items():
                assert close(got[k], v), (k, got[k], v)
            family = "sessions" if endpoint == "/user/analytics" else "events"
            assert got["dashboard_link"].startswith(f"{server.base_url}/app/{creds.appid}/{family}/list/1?")
