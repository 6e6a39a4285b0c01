"""Tenant isolation (SPEC §1, §10): no key of one app reads or writes another app's data, on every endpoint."""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sessionscope import signing
from sessionscope.demo import generate_sessions
from support.engines import store_url
from support.server import Creds, Server, cli, ingest

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
ALL_TIME = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": "2000-01-01", "upper": "2099-12-31"},
}
WRONG_SK = "sk_" + "Q" * 32
WRONG_IK = "ik_" + "Q" * 32
UNKNOWN_APPID = "0123456789abcdef01234567"
SECRET = b"test-secret-key-0123456789abcdef"  # what support.server configures
ERROR_KEYS = {"status", "code", "message", "param", "path", "request_id"}
VIDEO_A = os.urandom(3_000)
VIDEO_B = os.urandom(3_500)


def ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def small(sid: str, who: str, **prop: object) -> dict:
    return {
        "sessionId": sid,
        "property": {"uploadedServerTime": ts(NOW - timedelta(hours=1)), "durationSec": 5.0, **prop},
        "user": {"kUXCam_UserIdentity": who},
        "device": {"platform": "ios", "model": "iPhone15,2"},
    }


def list_all(client: httpx.Client, creds: Creds, *filters: dict, with_video: bool = False) -> list[dict]:
    rows: list[dict] = []
    page = 1
    while True:
        params = {"page": page, "page_size": 500, "filters": json.dumps([ALL_TIME, *filters])}
        if with_video:
            params["with_video"] = "true"
        r = client.get("/v2/session", params=params, headers=creds.read_headers)
        assert r.status_code == 200, r.text
        body = r.json()
        rows += body["data"]
        if body["pagination"]["next"] is None:
            return rows
        page += 1


@dataclass
class World:
    server: Server
    client: httpx.Client
    a: Creds
    b: Creds
    ids_a: set[str]
    ids_b: set[str]

    @property
    def secrets(self) -> list[str]:
        return [self.a.apikey, self.a.ingest_key, self.b.apikey, self.b.ingest_key, WRONG_SK, WRONG_IK]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, engine: str) -> World:
    """Two apps with data and a video each; "shared-1" is a sessionId both apps use (each its own session)."""
    data_dir = tmp_path_factory.mktemp(f"isolation-{engine}")
    server = Server(data_dir=data_dir, store_url=store_url(engine, data_dir))
    a, b = server.create_app("tenant-a"), server.create_app("tenant-b")
    docs_a = list(generate_sessions(300, days=20, seed=31, now=NOW))
    docs_b = list(generate_sessions(200, days=20, seed=32, now=NOW))
    docs_a += [
        small("shared-1", "A#shared", durationSec=111.0),
        small("a-vid", "A#v"),
        small("a-novid", "A#n"),
    ]
    docs_b += [small("shared-1", "B#shared", durationSec=222.0), small("b-vid", "B#v")]
    server.start()
    client = server.client()
    for creds, docs in ((a, docs_a), (b, docs_b)):
        for body in ingest(client, creds, docs):
            assert body["rejected"] == []
    for creds, sid, data in ((a, "a-vid", VIDEO_A), (b, "b-vid", VIDEO_B), (b, "shared-1", VIDEO_B)):
        r = client.put(
            f"/v2/ingest/sessions/{sid}/video",
            content=data,
            headers={**creds.ingest_headers, "Content-Type": "video/mp4"},
        )
        assert r.status_code == 200, r.text
    ids_a, ids_b = {d["sessionId"] for d in docs_a}, {d["sessionId"] for d in docs_b}
    assert ids_a & ids_b == {"shared-1"}
    yield World(server, client, a, b, ids_a, ids_b)
    client.close()
    server.stop()


def assert_401(r: httpx.Response, w: World, *extra_secrets: str) -> None:
    assert r.status_code == 401, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"success", "error"} and body["success"] is False
    err = body["error"]
    assert {"status", "code", "message"} <= set(err) <= ERROR_KEYS
    assert err["status"] == 401 and err["code"] == "unauthorized" and err["message"]
    for secret in [*w.secrets, *extra_secrets]:
        assert secret not in r.text
        assert secret not in str(r.headers)


# --- the credential matrix ------------------------------------------------------------------------
# Each case: (query params, headers) for a request on app A's data.

READ_CASES = {
    "no-credentials": lambda a, b: ({}, {}),
    "no-key": lambda a, b: ({}, {"appid": a.appid}),
    "no-appid": lambda a, b: ({}, {"apikey": a.apikey}),
    "wrong-key": lambda a, b: ({}, {"appid": a.appid, "apikey": WRONG_SK}),
    "wrong-key-query": lambda a, b: ({"appid": a.appid, "apikey": WRONG_SK}, {}),
    "other-apps-key": lambda a, b: ({}, {"appid": a.appid, "apikey": b.apikey}),
    "other-apps-key-query": lambda a, b: ({"appid": a.appid, "apikey": b.apikey}, {}),
    "unknown-appid": lambda a, b: ({}, {"appid": UNKNOWN_APPID, "apikey": a.apikey}),
    "appid-not-hex": lambda a, b: ({}, {"appid": "zz" * 12, "apikey": a.apikey}),
    "appid-uppercase": lambda a, b: ({}, {"appid": a.appid.upper(), "apikey": a.apikey}),
    "key-truncated": lambda a, b: ({}, {"appid": a.appid, "apikey": a.apikey[:-1]}),
    "ingest-key-as-apikey": lambda a, b: ({}, {"appid": a.appid, "apikey": a.ingest_key}),
    "ingest-key-header": lambda a, b: ({}, {"appid": a.appid, "X-Ingest-Key": a.ingest_key}),
    "ingest-key-bearer": lambda a, b: ({}, {"appid": a.appid, "Authorization": f"Bearer {a.ingest_key}"}),
    "apikey-as-bearer": lambda a, b: ({}, {"appid": a.appid, "Authorization": f"Bearer {a.apikey}"}),
    "apikey-in-x-api-key": lambda a, b: ({}, {"appid": a.appid, "X-Api-Key": a.apikey}),
    "apikey-in-api-key": lambda a, b: ({"appid": a.appid, "api_key": a.apikey}, {}),
    "appid-in-app-id": lambda a, b: ({}, {"app_id": a.appid, "apikey": a.apikey}),
}

WRITE_CASES = {
    "no-credentials": lambda a, b: ({}, {}),
    "no-key": lambda a, b: ({}, {"appid": a.appid}),
    "no-appid": lambda a, b: ({}, {"X-Ingest-Key": a.ingest_key}),
    "wrong-key": lambda a, b: ({}, {"appid": a.appid, "X-Ingest-Key": WRONG_IK}),
    "wrong-key-bearer": lambda a, b: ({"appid": a.appid}, {"Authorization": f"Bearer {WRONG_IK}"}),
    "other-apps-key": lambda a, b: ({}, {"appid": a.appid, "X-Ingest-Key": b.ingest_key}),
    "other-apps-key-bearer": lambda a, b: ({"appid": a.appid}, {"Authorization": f"Bearer {b.ingest_key}"}),
    "unknown-appid": lambda a, b: ({}, {"appid": UNKNOWN_APPID, "X-Ingest-Key": a.ingest_key}),
    "data-key-as-ingest": lambda a, b: ({}, {"appid": a.appid, "X-Ingest-Key": a.apikey}),
    "data-key-bearer": lambda a, b: ({}, {"appid": a.appid, "Authorization": f"Bearer {a.apikey}"}),
    "data-key-apikey-header": lambda a, b: ({"appid": a.appid, "apikey": a.apikey}, {}),
    "ingest-key-as-apikey": lambda a, b: ({}, {"appid": a.appid, "apikey": a.ingest_key}),
    "ingest-key-in-query": lambda a, b: ({"appid": a.appid, "ingest_key": a.ingest_key}, {}),
    "ingest-key-in-x-api-key": lambda a, b: ({}, {"appid": a.appid, "X-Api-Key": a.ingest_key}),
    "ingest-key-basic-auth": lambda a, b: (
        {"appid": a.appid},
        {"Authorization": "Basic " + base64.b64encode(f"{a.appid}:{a.ingest_key}".encode()).decode()},
    ),
    "ingest-key-token-scheme": lambda a, b: (
        {},
        {"appid": a.appid, "Authorization": f"Token {a.ingest_key}"},
    ),
}


def read_request(w: World, endpoint: str, params: dict, headers: dict) -> httpx.Response:
    path = endpoint.split(" ", 1)[1]
    if endpoint.startswith("GET"):
        return w.client.get(path, params=params, headers=headers)
    return w.client.post(path, params=params, headers=headers, json={"page_size": 5})


def write_request(w: World, endpoint: str, params: dict, headers: dict, sid: str) -> httpx.Response:
    if endpoint == "POST /v2/ingest/sessions":
        return w.client.post(
            "/v2/ingest/sessions",
            params=params,
            json=[small(sid, "intruder")],
            headers={**headers, "Content-Type": "application/json"},
        )
    return w.client.put(
        "/v2/ingest/sessions/a-novid/video",
        params=params,
        content=b"\x00" * 500,
        headers={**headers, "Content-Type": "video/mp4"},
    )


READ_ENDPOINTS = [
    "GET /v2/session",
    "POST /v2/session",
    "GET /v2/session/analytics",
    "POST /v2/session/analytics",
]
WRITE_ENDPOINTS = ["POST /v2/ingest/sessions", "PUT /v2/ingest/sessions/{id}/video"]
# users, events (SPEC §9) and export (§12): the same refusals, over the cases that matter most
MORE_READ_ENDPOINTS = [
    f"{method} /v2/{resource}{suffix}"
    for resource, suffixes in (("user", ("", "/analytics", "/export")), ("event", ("", "/analytics", "/export")),
                               ("session", ("/export",)))
    for suffix in suffixes
    for method in ("GET", "POST")
]
CORE_READ_CASES = [
    "no-credentials", "no-key", "no-appid", "wrong-key", "wrong-key-query", "other-apps-key",
    "other-apps-key-query", "unknown-appid", "ingest-key-as-apikey", "ingest-key-header", "ingest-key-bearer",
]


def skip_unbuilt(w: World, endpoint: str) -> None:
    """/v2/session/analytics is being built in parallel: expected to fail (not strict) while it 404s."""
    if "analytics" in endpoint:
        r = read_request(w, endpoint, {}, w.a.read_headers)
        if r.status_code == 404:
            pytest.xfail("/v2/session/analytics is not implemented yet (404 with valid credentials)")


@pytest.mark.parametrize("case", list(READ_CASES))
@pytest.mark.parametrize("endpoint", READ_ENDPOINTS)
def test_read_endpoints_refuse_bad_credentials(world: World, endpoint: str, case: str) -> None:
    skip_unbuilt(world, endpoint)
    params, headers = READ_CASES[case](world.a, world.b)
    r = read_request(world, endpoint, params, headers)
    assert_401(r, world)
    # the right credentials do work, so the 401 is about the credentials
    assert read_request(world, endpoint, {}, world.a.read_headers).status_code == 200


@pytest.mark.parametrize("endpoint", MORE_READ_ENDPOINTS)
def test_users_events_and_export_refuse_bad_credentials(world: World, endpoint: str) -> None:
    r = read_request(world, endpoint, {}, world.a.read_headers)
    if r.status_code == 404:
        pytest.xfail(f"{endpoint} is not implemented yet")
    assert r.status_code == 200, r.text[:300]
    own = r.content
    for case in CORE_READ_CASES:
        params, headers = READ_CASES[case](world.a, world.b)
        assert_401(read_request(world, endpoint, params, headers), world)
    # B's own key answers B's data, never A's
    theirs = read_request(world, endpoint, {}, world.b.read_headers)
    assert theirs.status_code == 200 and (theirs.content != own or not own)
    assert world.a.appid not in theirs.text


def test_every_endpoint_is_in_the_matrix(world: World) -> None:
    """Each /v2 operation of the OpenAPI document is checked above (video downloads: by signed link, below)."""
    spec = world.client.get("/openapi.json").json()
    ops = {
        f"{method.upper()} {path.replace('{session_id}', '{id}')}"
        for path, methods in spec["paths"].items()
        if path.startswith("/v2/")
        for method in methods
    }
    covered = set(READ_ENDPOINTS) | set(MORE_READ_ENDPOINTS) | set(WRITE_ENDPOINTS) | {"GET /v2/video/{token}"}
    assert ops <= covered, sorted(ops - covered)


@pytest.mark.parametrize("case", list(WRITE_CASES))
@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
def test_write_endpoints_refuse_bad_credentials(world: World, endpoint: str, case: str) -> None:
    params, headers = WRITE_CASES[case](world.a, world.b)
    sid = f"intrude-{case}"
    r = write_request(world, endpoint, params, headers, sid)
    assert_401(r, world)
    # the message names the credentials a write takes, not the data access key of reads
    message = r.json()["error"]["message"]
    assert "X-Ingest-Key" in message and "Bearer" in message and "cannot write" in message, message
    flt = {"attribute": "session_id", "operator": "in", "value": [sid, "a-novid"]}
    for creds in (world.a, world.b):
        rows = list_all(world.client, creds, flt)
        assert sid not in {x["sessionId"] for x in rows}
        for row in rows:
            assert row["property"]["hasVideo"] is False
    assert not (world.server.data_dir / "videos" / world.a.appid / "a-novid.mp4").exists()


@pytest.mark.parametrize("endpoint", READ_ENDPOINTS + WRITE_ENDPOINTS)
def test_wrong_key_and_other_apps_key_look_the_same(world: World, endpoint: str) -> None:
    skip_unbuilt(world, endpoint)
    a, b = world.a, world.b
    if endpoint in READ_ENDPOINTS:
        variants = [
            ({}, {"appid": a.appid, "apikey": WRONG_SK}),
            ({}, {"appid": a.appid, "apikey": b.apikey}),
            ({}, {"appid": UNKNOWN_APPID, "apikey": a.apikey}),
            ({}, {"appid": b.appid, "apikey": a.apikey}),
        ]
        responses = [read_request(world, endpoint, p, h) for p, h in variants]
        assert "X-Ingest-Key" not in responses[0].json()["error"]["message"]
    else:
        variants = [
            ({}, {"appid": a.appid, "X-Ingest-Key": WRONG_IK}),
            ({}, {"appid": a.appid, "X-Ingest-Key": b.ingest_key}),
            ({}, {"appid": UNKNOWN_APPID, "X-Ingest-Key": a.ingest_key}),
            ({}, {"appid": b.appid, "X-Ingest-Key": a.ingest_key}),
        ]
        responses = [write_request(world, endpoint, p, h, "same-look") for p, h in variants]
    for r in responses:
        assert_401(r, world)
    assert len({r.content for r in responses}) == 1, [r.text for r in responses]
    assert len({r.headers.get("content-type") for r in responses}) == 1


# --- what a tenant sees and touches ----------------------------------------------------------------


def test_each_app_sees_exactly_its_own_sessions(world: World) -> None:
    rows_a, rows_b = list_all(world.client, world.a), list_all(world.client, world.b)
    got_a, got_b = [x["sessionId"] for x in rows_a], [x["sessionId"] for x in rows_b]
    assert len(got_a) == len(set(got_a)) == len(world.ids_a) and set(got_a) == world.ids_a
    assert len(got_b) == len(set(got_b)) == len(world.ids_b) and set(got_b) == world.ids_b
    shared_a = next(x for x in rows_a if x["sessionId"] == "shared-1")
    shared_b = next(x for x in rows_b if x["sessionId"] == "shared-1")
    assert (
        shared_a["property"]["durationSec"] == 111.0 and shared_a["user"]["kUXCam_UserIdentity"] == "A#shared"
    )
    assert (
        shared_b["property"]["durationSec"] == 222.0 and shared_b["user"]["kUXCam_UserIdentity"] == "B#shared"
    )
    assert shared_a["property"]["hasVideo"] is False and shared_b["property"]["hasVideo"] is True
    assert all(world.a.appid in x["url"] for x in rows_a) and all(world.b.appid in x["url"] for x in rows_b)


def test_filters_cannot_reach_another_app(world: World) -> None:
    a_only = sorted(world.ids_a - world.ids_b)
    rows_a = list_all(world.client, world.a)
    users_a = sorted({x["user"]["uxcamuserid"] for x in rows_a})
    for flt in (
        {"attribute": "session_id", "operator": "in", "value": a_only},
        {"attribute": "uxcamuserid", "operator": "in", "value": users_a},
        {"attribute": "session_id", "operator": "not_in", "value": sorted(world.ids_b)},
    ):
        got = {x["sessionId"] for x in list_all(world.client, world.b, flt)}
        assert got <= world.ids_b and not got & set(a_only)
    # POST form: credentials and filters in the body
    body = {
        "appid": world.b.appid,
        "apikey": world.b.apikey,
        "page_size": 500,
        "filters": [ALL_TIME, {"attribute": "session_id", "operator": "in", "value": a_only[:100]}],
    }
    r = world.client.post("/v2/session", json=body)
    assert r.status_code == 200 and r.json()["data"] == []
    r = world.client.post("/v2/session", json={**body, "appid": world.a.appid})
    assert_401(r, world)
    # header appid of B with B's key, a body naming A: still B's data only
    r = world.client.post(
        "/v2/session",
        headers=world.b.read_headers,
        json={"appid": world.a.appid, "page_size": 500, "filters": [ALL_TIME]},
    )
    assert r.status_code == 200, r.text
    assert {x["sessionId"] for x in r.json()["data"]} <= world.ids_b


def test_analytics_counts_only_own_sessions(world: World) -> None:
    for creds, ids in ((world.a, world.ids_a), (world.b, world.ids_b)):
        r = world.client.get(
            "/v2/session/analytics", params={"filters": json.dumps([ALL_TIME])}, headers=creds.read_headers
        )
        if r.status_code == 404:
            pytest.xfail("/v2/session/analytics is not implemented yet")
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        row = data[0] if isinstance(data, list) else data
        assert row["session_count"] == len(ids)


def test_writes_with_own_key_land_in_own_app(world: World) -> None:
    a, b = world.a, world.b
    before_a = {x["sessionId"]: x for x in list_all(world.client, a)}
    victim = sorted(world.ids_a - world.ids_b)[0]
    # B writes a session with the id of one of A's: a new session of B, A's untouched
    r = world.client.post(
        "/v2/ingest/sessions", json=[small(victim, "B#intruder", durationSec=999.0)], headers=b.ingest_headers
    )
    assert r.json()["accepted"] == 1
    # conflicting appids (query vs header) with B's key: refused, or written to B, never to A
    mixed = []
    for i, (query_app, header_app) in enumerate(((b.appid, a.appid), (a.appid, b.appid))):
        r = world.client.post(
            "/v2/ingest/sessions",
            params={"appid": query_app},
            json=[small(f"b-mixed-{i}", "B#m")],
            headers={"appid": header_app, "X-Ingest-Key": b.ingest_key},
        )
        assert r.status_code in (200, 401), r.text
        if r.status_code == 200:
            mixed.append(f"b-mixed-{i}")
    # B uploads a video for a session only A has: 404, A's session still without video
    r = world.client.put(
        "/v2/ingest/sessions/a-novid/video",
        content=b"x" * 100,
        headers={**b.ingest_headers, "Content-Type": "video/mp4"},
    )
    assert r.status_code == 404, r.text
    after_a = {x["sessionId"]: x for x in list_all(world.client, a)}
    assert after_a == before_a
    rows_b = {x["sessionId"]: x for x in list_all(world.client, b)}
    assert rows_b[victim]["property"]["durationSec"] == 999.0
    assert rows_b[victim]["user"]["kUXCam_UserIdentity"] == "B#intruder"
    assert set(mixed) <= set(rows_b)
    world.ids_b.update({victim, *mixed})


# --- video links ------------------------------------------------------------------------------------


def video_links(w: World, creds: Creds, *sids: str) -> dict[str, str]:
    flt = {"attribute": "session_id", "operator": "in", "value": list(sids)}
    return {x["sessionId"]: x["video"] for x in list_all(w.client, creds, flt, with_video=True)}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_video_links_are_per_app(world: World) -> None:
    links_a = video_links(world, world.a, "a-vid", "shared-1")
    links_b = video_links(world, world.b, "b-vid", "shared-1")
    assert links_a["shared-1"] == "No video available for this session"  # B's video of its own shared-1
    assert links_a["a-vid"].startswith(world.server.base_url + "/v2/video/")
    assert world.client.get(links_a["a-vid"]).content == VIDEO_A
    assert world.client.get(links_b["b-vid"]).content == VIDEO_B
    assert world.client.get(links_b["shared-1"]).content == VIDEO_B
    assert links_b["b-vid"] != links_a["a-vid"]


def test_tampered_video_token_cannot_fetch_another_apps_video(world: World) -> None:
    a_link = video_links(world, world.a, "a-vid")["a-vid"]
    b_link = video_links(world, world.b, "b-vid")["b-vid"]
    a_token, b_token = a_link.rsplit("/", 1)[1], b_link.rsplit("/", 1)[1]
    a_body, a_mac = a_token.split(".", 1)
    b_body, b_mac = b_token.split(".", 1)
    payload = json.loads(unb64(a_body))
    tampered = []
    for change in (
        {"s": "b-vid"},
        {"a": world.b.appid},
        {"a": world.b.appid, "s": "b-vid"},
        {"s": "shared-1"},
    ):
        p = json.loads(json.dumps(payload))
        p["d"].update(change)
        tampered.append(b64(json.dumps(p, separators=(",", ":")).encode()) + "." + a_mac)
    p = json.loads(json.dumps(payload))
    p["e"] = p["e"] + 10**6
    tampered.append(b64(json.dumps(p, separators=(",", ":")).encode()) + "." + a_mac)  # extended expiry
    tampered += [
        a_body + "." + b_mac,  # another link's signature
        b_body + "." + a_mac,
        a_body + "." + ("A" if a_mac[0] != "A" else "B") + a_mac[1:],  # one character changed
        a_body[:-2] + "." + a_mac,
        a_body,  # no signature
        a_token + "x",
        "not-a-token",
    ]
    for token in tampered:
        r = world.client.get(f"/v2/video/{token}")
        assert r.status_code == 403, (token, r.status_code, r.text[:200])
        body = r.json()
        assert body["success"] is False and body["error"]["status"] == 403
        assert VIDEO_B[:64] not in r.content and VIDEO_A[:64] not in r.content
    # a correctly signed token for A's "shared-1" must not serve B's video of its own "shared-1"
    key = payload["d"]["k"]  # A's key fingerprint, as A's links carry it
    forged = signing.sign(SECRET, "video", {"a": world.a.appid, "s": "shared-1", "k": key}, int(time.time()) + 600)
    r = world.client.get(f"/v2/video/{forged}")
    assert r.status_code == 404, r.status_code
    assert VIDEO_B[:64] not in r.content


# --- key rotation -----------------------------------------------------------------------------------


def test_rotated_keys_stop_working_at_once(fresh_server: Server) -> None:
    a = fresh_server.create_app("rotating")
    fresh_server.start()
    with fresh_server.client() as c:
        assert (
            c.post("/v2/ingest/sessions", json=[small("rot-1", "R#1")], headers=a.ingest_headers).json()[
                "accepted"
            ]
            == 1
        )
        assert c.get("/v2/session", headers=a.read_headers).status_code == 200
        put = c.put("/v2/ingest/sessions/rot-1/video", content=b"\x00\x00\x00\x18ftypmp42" + b"v" * 64,
                    headers={**a.ingest_headers, "Content-Type": "video/mp4"})
        assert put.status_code == 200, put.text
        link = c.get("/v2/session", params={"with_video": "true"}, headers=a.read_headers).json()["data"][0]["video"]
        assert c.get(link).status_code == 200
    fresh_server.stop()
    out = cli(fresh_server.env, "apps", "rotate-key", a.appid, "--json").stdout
    rotated = json.loads(out)
    assert set(rotated) == {"appid", "apikey"} and rotated["appid"] == a.appid
    out = cli(fresh_server.env, "apps", "rotate-key", a.appid, "--kind", "ingest_key", "--json").stdout
    rotated_ingest = json.loads(out)
    assert set(rotated_ingest) == {"appid", "ingest_key"}
    new = Creds(a.appid, rotated["apikey"], rotated_ingest["ingest_key"])
    assert new.apikey != a.apikey and new.ingest_key != a.ingest_key
    fresh_server.start()
    with fresh_server.client() as c:
        old_read = c.get("/v2/session", headers=a.read_headers)
        wrong_read = c.get("/v2/session", headers={"appid": a.appid, "apikey": WRONG_SK})
        assert old_read.status_code == 401 and old_read.content == wrong_read.content
        r = c.get("/v2/session", headers=new.read_headers)
        assert r.status_code == 200 and [x["sessionId"] for x in r.json()["data"]] == ["rot-1"]
        # a video link handed out under the old data key ends with it; the new key's links work
        gone = c.get(link)
        assert gone.status_code == 403 and "rotated" in gone.json()["error"]["message"], gone.text
        fresh = c.get("/v2/session", params={"with_video": "true"}, headers=new.read_headers).json()["data"][0]
        assert c.get(fresh["video"]).status_code == 200
        r = c.post("/v2/ingest/sessions", json=[small("rot-old", "R#1")], headers=a.ingest_headers)
        assert r.status_code == 401
        for secret in (a.apikey, a.ingest_key, new.apikey, new.ingest_key):
            assert secret not in old_read.text and secret not in r.text
        r = c.post("/v2/ingest/sessions", json=[small("rot-2", "R#1")], headers=new.ingest_headers)
        assert r.status_code == 200 and r.json()["accepted"] == 1
        r = c.get("/v2/session", headers=new.read_headers)
        assert sorted(x["sessionId"] for x in r.json()["data"]) == ["rot-1", "rot-2"]
        # the new keys keep their roles
        assert c.get("/v2/session", headers={"appid": a.appid, "apikey": new.ingest_key}).status_code == 401
        r = c.post(
            "/v2/ingest/sessions",
            json=[small("rot-3", "R#1")],
            headers={"appid": a.appid, "X-Ingest-Key": new.apikey},
        )
        assert r.status_code == 401


# --- the dashboard ------------------------------------------------------------------------------------


def test_dashboard_pages_need_the_apps_own_login(world: World) -> None:
    a_only = sorted(world.ids_a - world.ids_b)[:50]
    pages = [f"/app/{world.a.appid}/sessions/list/1", f"/app/{world.a.appid}/sessions/list/1/{a_only[0]}",
             f"/app/{world.a.appid}/analytics"]

    def shows_a(r: httpx.Response) -> bool:
        return r.status_code == 200 and any(sid in r.text for sid in a_only)

    with httpx.Client(base_url=world.server.base_url, timeout=60, follow_redirects=False) as anon:
        for page in pages:
            r = anon.get(page)
            if r.status_code == 404:
                pytest.xfail("the dashboard is not built yet")
            assert not shows_a(r), page
    with httpx.Client(base_url=world.server.base_url, timeout=60, follow_redirects=False) as b:
        r = b.post("/login", data={"appid": world.b.appid, "apikey": world.b.apikey, "next": ""})
        assert r.status_code == 303, r.text[:300]
        token = r.cookies.get("sessionscope_dashboard")
        assert token
        forged = []
        body, mac = token.split(".", 1)
        data = json.loads(unb64(body))
        data["d"]["a"] = world.a.appid
        forged.append(b64(json.dumps(data, separators=(",", ":")).encode()) + "." + mac)
        for cookie in (token, *forged):
            for page in pages:
                r = b.get(page, headers={"Cookie": f"sessionscope_dashboard={cookie}"})
                assert not shows_a(r), page
        # and B's login with A's key fails
        r = b.post("/login", data={"appid": world.a.appid, "apikey": world.b.apikey, "next": ""})
        assert r.status_code == 401 and "sessionscope_dashboard" not in r.headers.get("set-cookie", "")


def test_no_key_in_the_server_log(world: World) -> None:
    """After the whole matrix (keys in query strings, headers, bodies): the log holds no key."""
    assert world.server.log_path is not None
    log = world.server.log_path.read_text(errors="replace")
    assert "/v2/session" in log  # the requests were logged
    for secret in world.secrets:
        assert secret not in log
