"""POST /v2/ingest/sessions against a real server: formats, auth forms, per-record rejection, idempotency,
last write wins, derivations, out-of-order `sessionNumber`, limits and malformed bodies (SPEC §8)."""

from __future__ import annotations

import copy
import gzip
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sessionscope.demo import generate_sessions
from support.engines import store_url
from support.server import Creds, Server, ingest

NOW = datetime.now(UTC).replace(microsecond=0)
ALL_TIME = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": "2000-01-01", "upper": "2099-12-31"},
}
ERROR_KEYS = {"status", "code", "message", "param", "path", "request_id"}


def ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def doc(sid: str, who: str = "U#1", /, *, uploaded: datetime | None = None, **sections: dict) -> dict:
    """A small valid session document; `sections` are merged into (or replace) the default sections."""
    d: dict = {
        "sessionId": sid,
        "property": {"uploadedServerTime": ts(uploaded or NOW - timedelta(hours=1)), "durationSec": 12.5},
        "user": {"kUXCam_UserIdentity": who},
        "device": {"platform": "ios", "model": "iPhone15,2", "producer": "Apple"},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(d.get(key), dict):
            d[key] = {**d[key], **value}
        else:
            d[key] = value
    return d


def list_all(client: httpx.Client, creds: Creds, *filters: dict) -> list[dict]:
    """Every session of the app (all upload times), paging with page_size 500."""
    rows: list[dict] = []
    page = 1
    while True:
        r = client.get(
            "/v2/session",
            params={"page": page, "page_size": 500, "filters": json.dumps([ALL_TIME, *filters])},
            headers=creds.read_headers,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        rows += body["data"]
        if body["pagination"]["next"] is None:
            return rows
        page += 1
        assert page < 1_000


def by_id(rows: list[dict]) -> dict[str, dict]:
    out = {r["sessionId"]: r for r in rows}
    assert len(out) == len(rows), "a sessionId appears more than once"
    return out


def post(client: httpx.Client, creds: Creds, body: bytes | list, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    hdrs = {"Content-Type": "application/json", **creds.ingest_headers, **headers}
    return client.post("/v2/ingest/sessions", content=content, headers=hdrs)


def assert_error(r: httpx.Response, status: int, param: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"success", "error"}
    assert body["success"] is False
    err = body["error"]
    assert {"status", "code", "message"} <= set(err) <= ERROR_KEYS, err
    assert err["status"] == status and isinstance(err["code"], str) and err["message"]
    if param is not None:
        assert err.get("param") == param, err
    return err


# --- fixtures -----------------------------------------------------------------------------------

APPS = ("shape", "auth", "ndjson", "gzip", "reject", "idem", "lww", "pages", "derive", "order", "malformed", "numbers",
        "receipt")


@dataclass
class Ctx:
    server: Server
    client: httpx.Client
    apps: dict[str, Creds]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Ctx:
    data_dir = tmp_path_factory.mktemp(f"ingest-{engine}")
    server = Server(data_dir=data_dir, store_url=store_url(engine, data_dir))
    apps = {name: server.create_app(name) for name in APPS}
    server.start()
    client = server.client()
    yield Ctx(server, client, apps)
    client.close()
    server.stop()


LIMITS = {
    "SESSIONSCOPE_MAX_BATCH_SESSIONS": "5",
    "SESSIONSCOPE_MAX_BODY_BYTES": "20000",
    "SESSIONSCOPE_MAX_EVENTS_PER_SESSION": "3",
    "SESSIONSCOPE_MAX_SCREENS_PER_SESSION": "4",
    "SESSIONSCOPE_MAX_STRING_LENGTH": "40",
    "SESSIONSCOPE_MAX_CUSTOM_PROPERTIES": "3",
}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Ctx:
    data_dir: Path = tmp_path_factory.mktemp(f"limits-{engine}")
    server = Server(data_dir=data_dir, store_url=store_url(engine, data_dir), extra_env=LIMITS)
    apps = {name: server.create_app(name) for name in ("batch", "records")}
    server.start()
    client = server.client()
    yield Ctx(server, client, apps)
    client.close()
    server.stop()


# --- formats and auth ---------------------------------------------------------------------------


def test_json_array_stored_as_sent(ctx: Ctx) -> None:
    a = ctx.apps["shape"]
    d1 = doc(
        "shape-1",
        "U#shape",
        property={
            "deviceLocalDateTime": ts(NOW - timedelta(hours=2)),
            "isCrashed": True,
            "totalGesture": 9,
            "rageGestureCount": 2,
            "networkType": "wifi",
        },
        user={"plan": "pro", "orders": 12, "ltv": 19.5, "beta": False, "tags": ["a", "b"]},
        device={
            "platform": "android",
            "model": "SM-G991B",
            "producer": "Samsung",
            "appVersion": "2.1",
            "osVersion": "14",
            "width": 1080,
            "height": 2400,
            "deviceId": "dev-shape",
        },
        location={"countryCode": "DE", "city": "Berlin", "longitude": 13.4, "latitude": 52.5},
        screens=["Home", "Product"],
        events=[{"name": "Add to cart", "screen": "Product", "timeSec": 3.0, "properties": {"price": 19.9}}],
    )
    d2 = doc("shape-2", "U#shape2", uploaded=NOW - timedelta(hours=3))
    d3 = doc("shape-3", "U#shape3", uploaded=NOW - timedelta(hours=4))
    r = post(ctx.client, a, [d1, d2, d3])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"success": True, "accepted": 3, "rejected": []}

    rows = list_all(ctx.client, a)
    assert [x["sessionId"] for x in rows] == ["shape-1", "shape-2", "shape-3"]  # upload time descending
    s = rows[0]
    assert s["property"]["uploadedServerTime"] == d1["property"]["uploadedServerTime"]
    assert s["property"]["deviceLocalDateTime"] == d1["property"]["deviceLocalDateTime"]
    assert s["property"]["durationSec"] == 12.5
    assert s["property"]["isCrashed"] is True
    assert s["property"]["totalGesture"] == 9 and s["property"]["rageGestureCount"] == 2
    assert s["property"]["networkType"] == "wifi"
    assert s["user"]["kUXCam_UserIdentity"] == "U#shape"
    for k in ("plan", "orders", "ltv", "beta", "tags"):
        assert s["user"][k] == d1["user"][k], k  # custom properties keep their JSON types
    assert s["device"]["platform"] == "android"
    assert s["device"]["model"] == "SM-G991B" and s["device"]["producer"] == "Samsung"
    assert s["device"]["width"] == 1080 and s["device"]["deviceId"] == "dev-shape"
    assert s["location"] == {"countryCode": "DE", "city": "Berlin", "longitude": 13.4, "latitude": 52.5}
    assert s["sessionNumber"] == 1
    assert s["url"].endswith(f"/app/{a.appid}/sessions/list/1/shape-1")
    assert s["video"] is None


def test_whole_number_floats_are_one_value_with_integers(ctx: Ctx) -> None:
    """One SDK sends 5, another 5.0: responses keep what was sent; filters and group_by see one value.
    A text "5.0" stays text."""
    a = ctx.apps["numbers"]
    sent = {"n-int": 5, "n-float": 5.0, "n-half": 5.5, "n-text": "5.0", "n-big": 1e300}
    docs = [
        doc(sid, f"U#{sid}", user={"level": v}, events=[{"name": "Buy", "timeSec": 1.0, "properties": {"qty": v}}])
        for sid, v in sent.items()
    ]
    r = post(ctx.client, a, docs)
    assert r.status_code == 200 and r.json()["accepted"] == len(docs), r.text
    rows = by_id(list_all(ctx.client, a))
    for sid, v in sent.items():
        got = rows[sid]["user"]["level"]
        assert got == v and type(got) is type(v), (sid, got)

    def matching(*filters: dict) -> set[str]:
        return {x["sessionId"] for x in list_all(ctx.client, a, *filters)}

    user_five = {"attribute": "user_custom_property", "property_name": "level", "operator": "equal"}
    assert matching({**user_five, "value": "5"}) == {"n-int", "n-float"}
    assert matching({**user_five, "value": "5.0"}) == {"n-text"}
    assert matching({**user_five, "value": 5}) == {"n-int", "n-float", "n-text"}  # a number compares as a number
    event_two = {"attribute": "event_name", "operator": "equal", "value": "Buy"}
    qty = {"name": "qty", "operator": "in", "value": ["5", "5.5"]}
    assert matching({**event_two, "property": qty}) == {"n-int", "n-float", "n-half"}

    r = ctx.client.get(
        "/v2/session/analytics",
        params={
            "filters": json.dumps([ALL_TIME]),
            "group_by": json.dumps([{"attribute": "user_custom_property", "property_name": "level"}]),
        },
        headers=a.read_headers,
    )
    assert r.status_code == 200, r.text
    groups = {row["user_custom_property_level"]: row["session_count"] for row in r.json()["data"]}
    assert groups == {"5": 2, "5.5": 1, "5.0": 1, "1e+300": 1}



@pytest.mark.parametrize("key_form", ["x-ingest-key", "bearer"])
@pytest.mark.parametrize("appid_form", ["header", "query"])
def test_auth_forms(ctx: Ctx, key_form: str, appid_form: str) -> None:
    a = ctx.apps["auth"]
    sid = f"auth-{key_form}-{appid_form}"
    headers = {"Content-Type": "application/json"}
    headers.update(
        {"X-Ingest-Key": a.ingest_key}
        if key_form == "x-ingest-key"
        else {"Authorization": f"Bearer {a.ingest_key}"}
    )
    params = {}
    if appid_form == "header":
        headers["appid"] = a.appid
    else:
        params["appid"] = a.appid
    r = ctx.client.post("/v2/ingest/sessions", params=params, content=json.dumps([doc(sid)]), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True, "accepted": 1, "rejected": []}
    got = list_all(ctx.client, a, {"attribute": "session_id", "operator": "equal", "value": sid})
    assert [x["sessionId"] for x in got] == [sid]


@pytest.mark.parametrize("ctype", ["application/x-ndjson", "application/x-ndjson; charset=utf-8"])
def test_ndjson(ctx: Ctx, ctype: str) -> None:
    a = ctx.apps["ndjson"]
    tag = "cs" if "charset" in ctype else "plain"
    docs = [
        doc(f"nd-{tag}-{i}", f"U#nd{i}", uploaded=NOW - timedelta(minutes=10 + i), device={"model": f"M{i}"})
        for i in range(7)
    ]
    lines = [json.dumps(d) for d in docs]
    body = ("\n".join(lines[:3]) + "\n\n" + "\r\n".join(lines[3:]) + "\n").encode()  # blank line, CRLF
    r = post(ctx.client, a, body, **{"Content-Type": ctype})
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True, "accepted": 7, "rejected": []}
    got = by_id(
        list_all(ctx.client, a, {"attribute": "session_id", "operator": "contains", "value": f"nd-{tag}-"})
    )
    assert set(got) == {d["sessionId"] for d in docs}
    for d in docs:
        assert got[d["sessionId"]]["device"]["model"] == d["device"]["model"]
        assert got[d["sessionId"]]["property"]["uploadedServerTime"] == d["property"]["uploadedServerTime"]


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_gzip(ctx: Ctx, fmt: str) -> None:
    a = ctx.apps["gzip"]
    docs = list(generate_sessions(40, days=5, seed=101 if fmt == "json" else 102, now=NOW))
    for d in docs:
        d["sessionId"] = f"gz-{fmt}-{d['sessionId']}"
    if fmt == "json":
        raw, ctype = json.dumps(docs).encode(), "application/json"
    else:
        raw, ctype = "\n".join(json.dumps(d) for d in docs).encode(), "application/x-ndjson"
    r = post(ctx.client, a, gzip.compress(raw), **{"Content-Type": ctype, "Content-Encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True, "accepted": 40, "rejected": []}
    got = by_id(
        list_all(ctx.client, a, {"attribute": "session_id", "operator": "contains", "value": f"gz-{fmt}-"})
    )
    assert set(got) == {d["sessionId"] for d in docs}
    for d in docs:
        row = got[d["sessionId"]]
        assert row["property"]["durationSec"] == d["property"]["durationSec"]
        assert row["device"]["model"] == d["device"].get("model")
        assert row["user"]["uxcamuserid"] == d["user"]["uxcamuserid"]


# --- per-record validation ----------------------------------------------------------------------


def test_per_record_rejection_lists_every_reason(ctx: Ctx) -> None:
    a = ctx.apps["reject"]
    good0 = doc("rej-good-0", "U#r0")
    bad1 = doc(
        "rej-bad-1",
        "U#r1",
        property={"uploadedServerTime": "yesterday", "durationSec": -5},
        device={"platform": "windows"},
    )
    good2 = doc("rej-good-2", "U#r2", uploaded=NOW - timedelta(hours=2))
    bad3 = {"sessionId": "bad id with spaces", "property": {"durationSec": 1.0}}  # bad id and no identity
    bad4 = 42
    bad5 = doc(
        "rej-bad-5",
        "U#r5",
        screens=["Home", ""],
        events=[{"name": "", "timeSec": -1}, {"name": "ok", "bogus": 1}],
    )
    bad6 = doc(
        "rej-bad-6",
        "U#r6",
        property={"isCrashed": "maybe", "totalGesture": 1.5},
        location={"latitude": 223.0},
    )
    r = post(ctx.client, a, [good0, bad1, good2, bad3, bad4, bad5, bad6])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["accepted"] == 2
    rejected = {x["index"]: x for x in body["rejected"]}
    assert sorted(rejected) == [1, 3, 4, 5, 6]
    expected_paths = {
        1: ["property.uploadedServerTime", "property.durationSec", "device.platform"],
        3: ["sessionId", "user"],
        4: [None],
        5: ["screens[1]", "events[0].name", "events[0].timeSec", "events[1].bogus"],
        6: ["property.isCrashed", "property.totalGesture", "location.latitude"],
    }
    expected_ids = {1: "rej-bad-1", 3: "bad id with spaces", 4: None, 5: "rej-bad-5", 6: "rej-bad-6"}
    for index, paths in expected_paths.items():
        entry = rejected[index]
        assert set(entry) == {"index", "sessionId", "errors"}
        assert entry["sessionId"] == expected_ids[index]
        errors = entry["errors"]
        assert len(errors) == len(paths), errors  # every reason, each once
        assert all(isinstance(e, str) and e for e in errors)
        for p in paths:
            if p is not None:
                assert any(e.startswith(p + ":") for e in errors), (p, errors)
    # the valid siblings are stored, the invalid ones are not
    rows = list_all(ctx.client, a)
    assert sorted(x["sessionId"] for x in rows) == ["rej-good-0", "rej-good-2"]


def test_all_records_invalid_stores_nothing(ctx: Ctx) -> None:
    a = ctx.apps["reject"]
    before = len(list_all(ctx.client, a))
    r = post(ctx.client, a, [{"sessionId": "x"}, None, "text", [1], {"user": {"kUXCam_UserIdentity": "u"}}])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 0
    assert [x["index"] for x in body["rejected"]] == [0, 1, 2, 3, 4]
    assert any(e.startswith("user") for e in body["rejected"][0]["errors"])
    assert any(e.startswith("sessionId") for e in body["rejected"][4]["errors"])
    assert len(list_all(ctx.client, a)) == before


# --- idempotency and last write wins ------------------------------------------------------------


def test_resending_never_duplicates(ctx: Ctx) -> None:
    a = ctx.apps["idem"]
    docs = list(generate_sessions(120, days=10, seed=7, now=NOW))
    ids = {d["sessionId"] for d in docs}
    for _ in range(2):
        assert post(ctx.client, a, docs).json() == {"success": True, "accepted": 120, "rejected": []}
    # the same again in other chunks, and in NDJSON
    for i in range(0, 120, 7):
        assert post(ctx.client, a, docs[i : i + 7]).status_code == 200
    nd = "\n".join(json.dumps(d) for d in docs[:50]).encode()
    assert post(ctx.client, a, nd, **{"Content-Type": "application/x-ndjson"}).status_code == 200
    rows = list_all(ctx.client, a)
    assert len(rows) == 120 and set(by_id(rows)) == ids

    # one batch carrying the same sessionId twice: one row, the later document wins
    old = copy.deepcopy(docs[0])
    first, second = copy.deepcopy(old), copy.deepcopy(old)
    first["property"]["durationSec"] = 1.0
    second["property"]["durationSec"] = 2.0
    new_first, new_second = (
        doc("idem-new", "U#idem", property={"durationSec": 3.0}),
        doc("idem-new", "U#idem", property={"durationSec": 4.0}),
    )
    r = post(ctx.client, a, [first, new_first, second, new_second])
    assert r.status_code == 200, r.text
    assert r.json()["rejected"] == []
    rows = by_id(list_all(ctx.client, a))
    assert len(rows) == 121 and set(rows) == ids | {"idem-new"}
    assert rows[old["sessionId"]]["property"]["durationSec"] == 2.0
    assert rows["idem-new"]["property"]["durationSec"] == 4.0
    # a user's session numbers are still 1..n without gaps or repeats
    per_user: dict[str, list[int]] = {}
    for row in rows.values():
        per_user.setdefault(row["user"]["uxcamuserid"], []).append(row["sessionNumber"])
    for numbers in per_user.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))


def test_last_write_wins(ctx: Ctx) -> None:
    a = ctx.apps["lww"]
    v1 = doc(
        "lww-1",
        "U#lww",
        property={"durationSec": 10.0, "isCrashed": True},
        user={"plan": "free", "coupon": "X1"},
        device={"model": "Old Model"},
        location={"city": "Paris", "countryCode": "FR"},
        screens=["Home", "Old"],
        events=[{"name": "Old Event", "screen": "Old", "timeSec": 1.0}],
    )
    v2 = doc(
        "lww-1",
        "U#lww",
        property={"durationSec": 99.5},
        user={"plan": "pro"},
        device={"model": "New Model"},
        location={"countryCode": "FR"},
        screens=["Home", "New", "New"],
        events=[{"name": "New Event", "screen": "New", "timeSec": 2.0}],
    )
    sibling = doc("lww-2", "U#lww-other")
    assert post(ctx.client, a, [v1, sibling]).json()["accepted"] == 2
    (row,) = list_all(ctx.client, a, {"attribute": "session_id", "operator": "equal", "value": "lww-1"})
    assert row["device"]["model"] == "Old Model" and row["user"]["coupon"] == "X1"

    assert post(ctx.client, a, [v2]).json() == {"success": True, "accepted": 1, "rejected": []}
    rows = by_id(list_all(ctx.client, a))
    assert set(rows) == {"lww-1", "lww-2"}
    row = rows["lww-1"]
    assert row["property"]["durationSec"] == 99.5
    assert row["property"]["isCrashed"] is False  # absent in v2: the whole document was replaced
    assert row["device"]["model"] == "New Model"
    assert row["user"]["plan"] == "pro" and "coupon" not in row["user"]
    assert row["location"]["city"] is None
    assert row["property"]["totalScreen"] == 3 and row["property"]["uniqueScreensCount"] == 2
    assert row["property"]["uniqueScreens"] == ["Home", "New"]
    assert row["sessionNumber"] == 1

    def with_event(name: str) -> list[str]:
        f = {"attribute": "event_name", "operator": "equal", "value": name}
        return [x["sessionId"] for x in list_all(ctx.client, a, f)]

    assert with_event("Old Event") == []
    assert with_event("New Event") == ["lww-1"]
    screen = {"attribute": "session_screen_list", "operator": "has_any", "value": ["Old"]}
    assert list_all(ctx.client, a, screen) == []


def test_a_resent_session_keeps_its_time_of_receipt(ctx: Ctx) -> None:
    """uploadedServerTime defaults to the time of receipt: the first. A batch retried later (without the
    field) replaces the documents but not their times, nor what followed from them: verifiedServerTime and the
    start when absent too, the events' times. A time the document sends is taken as sent."""
    a = ctx.apps["receipt"]
    local = NOW - timedelta(hours=3)

    def unsent(sid: str, duration: float, **prop: str) -> dict:
        d = doc(sid, f"U#{sid}", property=prop, events=[{"name": f"E-{sid}", "timeSec": 3.0}])
        d["property"] = {k: v for k, v in d["property"].items() if k != "uploadedServerTime"} | {"durationSec": duration}
        return d

    first = [unsent("r-plain", 1.0), unsent("r-local", 1.0, deviceLocalDateTime=ts(local)),
             unsent("r-verified", 1.0, verifiedServerTime=ts(local))]

    def state() -> dict[str, tuple]:
        rows = by_id(list_all(ctx.client, a))
        out = {}
        for sid, row in rows.items():
            f = {"attribute": "event_name", "operator": "equal", "value": f"E-{sid}"}
            r = ctx.client.get("/v2/event", params={"filters": json.dumps([ALL_TIME, f])}, headers=a.read_headers)
            events = [(e["eventDate"], e["eventPropertyTime"]) for e in r.json()["data"]]
            p = row["property"]
            out[sid] = (p["uploadedServerTime"], p["verifiedServerTime"], p["deviceLocalDateTime"], events, p["durationSec"])
        return out

    assert post(ctx.client, a, first).json()["accepted"] == 3
    before = state()
    received = parse_ts(before["r-plain"][0])
    assert abs(received - datetime.now(UTC)) < timedelta(minutes=1)
    assert before["r-plain"][1] == before["r-plain"][0] and before["r-verified"][1] == ts(local)
    assert before["r-local"][2] == ts(local)
    while datetime.now(UTC).replace(microsecond=0) <= received:  # the retry is received a later second
        time.sleep(0.1)
    retry = [{**d, "property": {**d["property"], "durationSec": 2.0}} for d in first]
    assert post(ctx.client, a, [*retry, unsent("r-new", 1.0)]).json()["accepted"] == 4
    after = state()
    assert parse_ts(after["r-new"][0]) > received  # a new session takes this receipt's time
    for sid in ("r-plain", "r-local", "r-verified"):
        assert after[sid][:4] == before[sid][:4], sid  # the times: kept
        assert after[sid][4] == 2.0, sid  # the document: replaced
    # a time the document sends wins
    sent = NOW - timedelta(days=2)
    assert post(ctx.client, a, [{**retry[0], "property": {**retry[0]["property"], "uploadedServerTime": ts(sent)}}]).status_code == 200
    assert state()["r-plain"][:2] == (ts(sent), ts(sent))


def test_paging_counts_every_session_once(ctx: Ctx) -> None:
    a = ctx.apps["pages"]
    docs = list(generate_sessions(1_200, days=20, seed=8, now=NOW))
    for body in ingest(ctx.client, a, docs, batch=500):
        assert body["rejected"] == []
    pages = []
    for page in (1, 2, 3):
        r = ctx.client.get(
            "/v2/session",
            params={"page": page, "page_size": 500, "filters": json.dumps([ALL_TIME])},
            headers=a.read_headers,
        )
        assert r.status_code == 200
        pages.append(r.json())
    assert [len(p["data"]) for p in pages] == [500, 500, 200]
    assert [p["pagination"] for p in pages] == [
        {"current": 1, "next": 2, "total": 500},
        {"current": 2, "next": 3, "total": 500},
        {"current": 3, "next": None, "total": 200},
    ]
    rows = [row for p in pages for row in p["data"]]
    expected = sorted(docs, key=lambda d: d["sessionId"])
    expected.sort(key=lambda d: d["property"]["uploadedServerTime"], reverse=True)
    assert [x["sessionId"] for x in rows] == [d["sessionId"] for d in expected]
    # one more full re-send in a single batch: still 1,200
    assert post(ctx.client, a, docs).json()["accepted"] == 1_200
    assert len(by_id(list_all(ctx.client, a))) == 1_200


# --- derivations ----------------------------------------------------------------------------------


def test_derived_fields(ctx: Ctx) -> None:
    a = ctx.apps["derive"]
    base = NOW - timedelta(days=2)
    batch1 = [
        {
            "sessionId": "d-1",
            "property": {
                "uploadedServerTime": ts(base),
                "responsiveGestureCount": 7,
                "unresponsiveGestureCount": 3,
            },
            "user": {"kUXCam_UserIdentity": "alice"},
            "device": {"platform": "android", "width": 1080, "height": 2400, "model": "Pixel"},
            "screens": ["Home", "Product", "Home", "Cart", "Home"],
        },
        {
            "sessionId": "d-2",
            "property": {"uploadedServerTime": ts(base)},
            "device": {
                "deviceId": "dev-1",
                "platform": "ios",
                "model": "iPad13,4",
                "width": 1640,
                "height": 2360,
            },
        },
        {
            "sessionId": "d-3",
            "property": {"uploadedServerTime": ts(base), "totalScreen": 9},
            "user": {"uxcamuserid": "my-user-7", "alias": "Given Name"},
            "device": {"platform": "ios", "class": "Custom Class"},
            "screens": ["A", "B"],
        },
    ]
    batch2 = [
        {
            "sessionId": "d-4",
            "property": {"uploadedServerTime": ts(base + timedelta(hours=1)), "totalGesture": 5},
            "user": {"kUXCam_UserIdentity": "alice"},
            "device": {"platform": "android", "width": 720, "height": 1600},
        },
        {
            "sessionId": "d-5",
            "property": {"uploadedServerTime": ts(base + timedelta(hours=1))},
            "device": {"deviceId": "dev-1", "platform": "ios", "width": 1170, "height": 2532},
        },
        {
            "sessionId": "d-6",
            "property": {"uploadedServerTime": ts(base + timedelta(hours=2))},
            "user": {"kUXCam_UserIdentity": "bob"},
            "device": {"deviceId": "dev-1", "platform": 1, "width": 600, "height": 1000},
        },
        {
            "sessionId": "d-7",
            "property": {"uploadedServerTime": ts(base)},
            "user": {"kUXCam_UserIdentity": "carol"},
            "web": {"browserName": "Firefox", "deviceType": "desktop", "osName": "Linux"},
        },
    ]
    for batch in (batch1, batch2):
        r = post(ctx.client, a, batch)
        assert r.json() == {"success": True, "accepted": len(batch), "rejected": []}, r.text

    t0 = datetime.now(UTC).replace(microsecond=0)
    r = post(ctx.client, a, [{"sessionId": "d-8", "user": {"kUXCam_UserIdentity": "dave"}}])
    t1 = datetime.now(UTC)
    assert r.json()["accepted"] == 1

    rows = by_id(list_all(ctx.client, a))
    uid = {sid: row["user"]["uxcamuserid"] for sid, row in rows.items()}
    # uxcamuserid: derived from the identity, else the device id; stable across batches
    assert all(isinstance(u, str) and u for u in uid.values())
    assert uid["d-1"] == uid["d-4"]
    assert uid["d-2"] == uid["d-5"]
    assert (
        len({uid["d-1"], uid["d-2"], uid["d-6"], uid["d-7"], uid["d-8"]}) == 5
    )  # identity wins over device id
    assert uid["d-3"] == "my-user-7"
    assert rows["d-1"]["user"]["kUXCam_UserIdentity"] == "alice"
    assert "kUXCam_UserIdentity" not in rows["d-2"]["user"]
    # alias: stable per user, human-looking, explicit one kept
    assert rows["d-1"]["user"]["alias"] == rows["d-4"]["user"]["alias"]
    assert rows["d-2"]["user"]["alias"] == rows["d-5"]["user"]["alias"]
    for sid in ("d-1", "d-2", "d-6", "d-7", "d-8"):
        assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][A-Za-z]+", rows[sid]["user"]["alias"]), rows[sid]["user"][
            "alias"
        ]
    assert rows["d-3"]["user"]["alias"] == "Given Name"
    # session numbers per derived user
    assert (rows["d-1"]["sessionNumber"], rows["d-4"]["sessionNumber"]) == (1, 2)
    assert (rows["d-2"]["sessionNumber"], rows["d-5"]["sessionNumber"]) == (1, 2)
    assert rows["d-6"]["sessionNumber"] == 1
    # device class from platform and size
    assert rows["d-1"]["device"]["class"] == "Android Large"
    assert rows["d-4"]["device"]["class"] == "Android Medium"
    assert rows["d-6"]["device"]["class"] == "Android Small"
    assert rows["d-6"]["device"]["platform"] == "android"
    assert rows["d-2"]["device"]["class"] == "iPad"
    assert rows["d-5"]["device"]["class"] == "iPhone Large"
    assert rows["d-3"]["device"]["class"] == "Custom Class"
    assert rows["d-7"]["device"]["class"] == "Web Desktop"
    assert rows["d-7"]["web"]["browserName"] == "Firefox"
    # screens and gestures
    p1 = rows["d-1"]["property"]
    assert (p1["totalScreen"], p1["uniqueScreensCount"], p1["uniqueScreens"]) == (
        5,
        3,
        ["Home", "Product", "Cart"],
    )
    assert (p1["totalGesture"], p1["responsiveGestureCount"], p1["unresponsiveGestureCount"]) == (10, 7, 3)
    assert rows["d-3"]["property"]["totalScreen"] == 9  # given: kept
    assert rows["d-3"]["property"]["uniqueScreensCount"] == 2
    assert rows["d-4"]["property"]["totalGesture"] == 5
    # uploadedServerTime defaults to the time of receipt
    got = parse_ts(rows["d-8"]["property"]["uploadedServerTime"])
    assert t0 - timedelta(seconds=2) <= got <= t1 + timedelta(seconds=2), (t0, got, t1)


# --- out-of-order arrival -------------------------------------------------------------------------


def expected_numbers(docs: list[dict], uid_of) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Rank of each session among its user's sessions by start time (local time, else upload), then upload, id."""
    groups: dict[str, list[dict]] = {}
    for d in docs:
        groups.setdefault(uid_of(d), []).append(d)
    out = {}
    for sessions in groups.values():
        sessions.sort(
            key=lambda d: (
                d["property"].get("deviceLocalDateTime") or d["property"]["uploadedServerTime"],
                d["property"]["uploadedServerTime"],
                d["sessionId"],
            )
        )
        for rank, d in enumerate(sessions, 1):
            out[d["sessionId"]] = rank
    return out


def test_out_of_order_arrival_keeps_session_numbers(ctx: Ctx) -> None:
    a = ctx.apps["order"]
    start = NOW - timedelta(days=10)
    # user "ooo": 6 sessions, one a day; sent newest first, one batch each, each uploaded later than the last
    ooo = [
        doc(
            f"ooo-{day}",
            "ooo",
            uploaded=NOW - timedelta(hours=6 - i),
            property={"deviceLocalDateTime": ts(start + timedelta(days=day, hours=3))},
        )
        for i, day in enumerate(range(6, 0, -1))
    ]
    # user "mix": sessions without a local time rank by upload time, interleaved in the same batches
    mix = [
        doc("mix-a", "mix", uploaded=start + timedelta(days=4)),
        doc(
            "mix-b",
            "mix",
            uploaded=NOW - timedelta(hours=1),
            property={"deviceLocalDateTime": ts(start + timedelta(days=2))},
        ),
        doc("mix-c", "mix", uploaded=start + timedelta(days=1)),
    ]
    sent: list[dict] = []
    for i, d in enumerate(ooo):
        batch = [d] + ([mix[i]] if i < len(mix) else [])
        assert post(ctx.client, a, batch).json()["accepted"] == len(batch)
        sent += batch
        want = expected_numbers(sent, lambda d: d["user"]["kUXCam_UserIdentity"])
        got = {r["sessionId"]: r["sessionNumber"] for r in list_all(ctx.client, a)}
        assert got == want, f"after batch {i}"
    assert {s: n for s, n in got.items() if s.startswith("ooo")} == {f"ooo-{day}": day for day in range(1, 7)}
    assert (got["mix-c"], got["mix-b"], got["mix-a"]) == (1, 2, 3)

    # a late session that belongs first renumbers all the others
    late = doc("ooo-0", "ooo", property={"deviceLocalDateTime": ts(start - timedelta(days=1))})
    assert post(ctx.client, a, [late]).json()["accepted"] == 1
    got = {r["sessionId"]: r["sessionNumber"] for r in list_all(ctx.client, a)}
    assert {s: n for s, n in got.items() if s.startswith("ooo")} == {
        f"ooo-{day}": day + 1 for day in range(0, 7)
    }
    # moving an existing session to the end (re-sent with a later start) renumbers again
    moved = doc(
        "ooo-1",
        "ooo",
        uploaded=NOW - timedelta(minutes=30),
        property={"deviceLocalDateTime": ts(start + timedelta(days=8))},
    )
    assert post(ctx.client, a, [moved]).json()["accepted"] == 1
    final = [d for d in sent + [late] if d["sessionId"] != "ooo-1"] + [moved]
    want = expected_numbers(final, lambda d: d["user"]["kUXCam_UserIdentity"])
    got = {r["sessionId"]: r["sessionNumber"] for r in list_all(ctx.client, a)}
    assert got == want
    assert got["ooo-1"] == 7 and got["ooo-0"] == 1 and got["ooo-2"] == 2


def test_session_numbers_of_generated_data(loaded) -> None:  # type: ignore[no-untyped-def]
    """Every session of the shared generated store: sessionNumber is the rank by start time within its user."""
    want = expected_numbers(loaded.docs_a, lambda d: d["user"]["uxcamuserid"])
    got = {r["sessionId"]: r["sessionNumber"] for r in list_all(loaded.client, loaded.a)}
    assert len(got) == len(loaded.docs_a)
    wrong = {s: (got[s], want[s]) for s in want if got.get(s) != want[s]}
    assert not wrong, f"{len(wrong)} wrong, e.g. {list(wrong.items())[:5]}"


# --- limits ---------------------------------------------------------------------------------------


def test_too_many_sessions_is_413_and_stores_nothing(limited: Ctx) -> None:
    a = limited.apps["batch"]
    six = [doc(f"lim-{i}", f"U#{i}") for i in range(6)]
    r = post(limited.client, a, six)
    assert_error(r, 413)
    nd = "\n".join(json.dumps(d) for d in six).encode()
    assert_error(post(limited.client, a, nd, **{"Content-Type": "application/x-ndjson"}), 413)
    assert_error(
        post(
            limited.client,
            a,
            gzip.compress(nd),
            **{"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"},
        ),
        413,
    )
    assert list_all(limited.client, a) == []
    five = [doc(f"ok-{i}", f"U#{i}") for i in range(5)]
    assert post(limited.client, a, five).json() == {"success": True, "accepted": 5, "rejected": []}
    assert sorted(x["sessionId"] for x in list_all(limited.client, a)) == [f"ok-{i}" for i in range(5)]


def test_body_over_limit_is_413_and_stores_nothing(limited: Ctx) -> None:
    a = limited.apps["batch"]
    before = len(list_all(limited.client, a))
    docs = [doc(f"big-{i}", f"U#big{i}") for i in range(2)]
    padded = b"[" + json.dumps(docs[0]).encode() + b"," + b" " * 21_000 + json.dumps(docs[1]).encode() + b"]"
    assert len(padded) > 20_000
    err = assert_error(post(limited.client, a, padded), 413)
    assert "20000" in err["message"] or "limit" in err["message"]
    # small on the wire, over the limit once decompressed
    bomb = gzip.compress(padded)
    assert len(bomb) < 20_000
    assert_error(post(limited.client, a, bomb, **{"Content-Encoding": "gzip"}), 413)

    # chunked upload (no Content-Length) over the limit
    def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(padded), 4096):
            yield padded[i : i + 4096]

    r = limited.client.post(
        "/v2/ingest/sessions",
        content=chunks(),
        headers={"Content-Type": "application/json", **a.ingest_headers},
    )
    assert_error(r, 413)
    assert len(list_all(limited.client, a)) == before
    # just under the limit is fine
    ok = b"[" + json.dumps(docs[0]).encode() + b"," + b" " * 10_000 + json.dumps(docs[1]).encode() + b"]"
    assert post(limited.client, a, ok).json()["accepted"] == 2


def test_per_session_limits_reject_the_record(limited: Ctx) -> None:
    a = limited.apps["records"]
    ev = lambda n: [{"name": f"E{i}", "timeSec": float(i)} for i in range(n)]  # noqa: E731
    batch = [
        doc(
            "rec-ok",
            "U#ok",
            events=ev(3),
            screens=["A", "B", "C", "D"],
            user={"p1": 1, "p2": 2, "p3": 3},
            device={"model": "m" * 40},
        ),
        doc("rec-events", "U#e", events=ev(4)),
        doc("rec-screens", "U#s", screens=["A", "B", "C", "D", "E"]),
        doc("rec-string", "U#t", device={"model": "m" * 41}),
        doc("rec-props", "U#p", user={"p1": 1, "p2": 2, "p3": 3, "p4": 4}),
    ]
    r = post(limited.client, a, batch)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 1
    rejected = {x["sessionId"]: x["errors"] for x in body["rejected"]}
    assert set(rejected) == {"rec-events", "rec-screens", "rec-string", "rec-props"}
    assert [x["index"] for x in body["rejected"]] == [1, 2, 3, 4]
    for sid, prefix in (
        ("rec-events", "events"),
        ("rec-screens", "screens"),
        ("rec-string", "device.model"),
        ("rec-props", "user"),
    ):
        assert len(rejected[sid]) == 1 and rejected[sid][0].startswith(prefix), rejected[sid]
    assert "3" in rejected["rec-events"][0] and "40" in rejected["rec-string"][0]
    assert [x["sessionId"] for x in list_all(limited.client, a)] == ["rec-ok"]


# --- malformed bodies -----------------------------------------------------------------------------

SINGLE = json.dumps(doc("mal-single", "U#m")).encode()
MALFORMED = {
    "truncated-json": (b'[{"sessionId": "mal-1", ', {}),
    "empty": (b"", {}),
    "whitespace": (b"  \n ", {}),
    "single-object": (SINGLE, {}),
    "null": (b"null", {}),
    "string": (b'"sessions"', {}),
    "number": (b"12", {}),
    "empty-array": (b"[]", {}),
    "bad-utf8": (b'[{"sessionId": "mal-\xff\xfe", "user": {"kUXCam_UserIdentity": "u"}}]', {}),
    "ndjson-bad-line": (
        SINGLE + b"\n{not json}\n" + json.dumps(doc("mal-2", "U#m")).encode(),
        {"Content-Type": "application/x-ndjson"},
    ),
    "ndjson-empty": (b"\n\n", {"Content-Type": "application/x-ndjson"}),
    "gzip-garbage": (b"\x1f\x8b\x08\x00garbage-not-deflate", {"Content-Encoding": "gzip"}),
    "not-gzip": (b"[" + SINGLE + b"]", {"Content-Encoding": "gzip"}),
    "gzip-of-bad-json": (gzip.compress(b'[{"sessionId": '), {"Content-Encoding": "gzip"}),
    "unsupported-encoding": (b"[" + SINGLE + b"]", {"Content-Encoding": "br"}),
    "gzip-truncated": (gzip.compress(b"[" + SINGLE + b"]")[:-12], {"Content-Encoding": "gzip"}),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_body_is_400_and_stores_nothing(ctx: Ctx, case: str) -> None:
    a = ctx.apps["malformed"]
    body, headers = MALFORMED[case]
    r = post(ctx.client, a, body, **headers)
    err = assert_error(r, 400, param="body")
    assert err["code"] == "invalid_request"
    assert a.ingest_key not in r.text
    assert list_all(ctx.client, a) == []
