"""Hostile input on a real server: injection and traversal in every parameter, malformed and oversized bodies,
invalid UTF-8, and slow clients.

The server runs with small limits (256 KiB bodies, 50 sessions per batch, 64 KiB videos) so the 413 cases
are cheap. Whatever arrives, the answer is a 2xx or a 4xx in the SPEC §10 shape, never a 5xx; nothing is
written outside the app's own rows and video folder; keys and file contents never come back.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from sessionscope.demo import generate_sessions
from support.server import Creds, Server, ingest

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
ALL_TIME = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": "2000-01-01", "upper": "2099-12-31"},
}
ERROR_KEYS = {"status", "code", "message", "param", "path", "request_id"}
MAX_BODY = 256 * 1024
MAX_BATCH = 50
MAX_VIDEO = 64 * 1024
SECRET = "test-secret-key-0123456789abcdef"  # what support.server configures

INJECTIONS = [
    "'; DROP TABLE sessions; --",
    "x' OR '1'='1",
    '") OR 1=1 --',
    "1); DELETE FROM apps WHERE (1=1",
    "%' OR app_id LIKE '%",
    "$1 OR true",
    "? OR 1=1",
    "1 UNION SELECT apikey_hash FROM apps --",
    "'; ATTACH '/tmp/x.db' AS x; --",
    "'; COPY sessions TO '/tmp/leak.csv'; --",
    "read_csv_auto('/etc/passwd')",
]
TRAVERSALS = [
    "../../../../etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "..\\..\\..\\windows\\win.ini",
    "/etc/passwd",
    "....//....//secret.key",
    "%2e%2e%2fsecret.key",
    "..",
    ".",
    "secret.key",
    "file:///etc/passwd",
]
ODD = [
    "\x00",
    "a\x00b",
    "{{7*7}}",
    "${jndi:ldap://127.0.0.1/a}",
    "<script>alert(1)</script>",
    "\u202e\u0645\U0001f600",
    "x" * 10_000,
    "-1",
    "0",
    "1e400",
    "NaN",
    "null",
    "[]",
    "{}",
    '[{"attribute":',
]
HOSTILE = INJECTIONS + TRAVERSALS + ODD


@dataclass
class World:
    server: Server
    client: httpx.Client
    a: Creds
    b: Creds
    count_a: int
    count_b: int


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    data_dir = tmp_path_factory.mktemp("hostile")
    server = Server(data_dir=data_dir, store_url=f"duckdb:///{data_dir / 'hostile.duckdb'}")
    server.extra_env.update(
        {
            "SESSIONSCOPE_MAX_BODY_BYTES": str(MAX_BODY),
            "SESSIONSCOPE_MAX_BATCH_SESSIONS": str(MAX_BATCH),
            "SESSIONSCOPE_MAX_VIDEO_BYTES": str(MAX_VIDEO),
        }
    )
    a, b = server.create_app("hostile-a"), server.create_app("hostile-b")
    docs_a = list(generate_sessions(150, days=20, seed=41, now=NOW))
    docs_b = list(generate_sessions(60, days=20, seed=42, now=NOW))
    server.start()
    client = server.client()
    for creds, docs in ((a, docs_a), (b, docs_b)):
        for body in ingest(client, creds, docs, batch=MAX_BATCH):
            assert body["rejected"] == []
    yield World(server, client, a, b, len(docs_a), len(docs_b))
    client.close()
    server.stop()


def assert_shape(r: httpx.Response, w: World, *, allowed: tuple[int, ...] = (200, 400)) -> None:
    """A 2xx, or an error in the SPEC shape; never a 5xx, a key, a stack trace, SQL or a file's content."""
    assert r.status_code in allowed, (r.request.method, str(r.request.url)[:300], r.status_code, r.text[:300])
    text = r.text if "parquet" not in r.headers.get("content-type", "") else ""
    for secret in (w.a.apikey, w.a.ingest_key, w.b.apikey, w.b.ingest_key, SECRET, "root:x:0:0"):
        assert secret not in text
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/json"), r.headers
        body = r.json()
        assert set(body) == {"success", "error"} and body["success"] is False
        err = body["error"]
        assert {"status", "code", "message"} <= set(err) <= ERROR_KEYS, err
        assert err["status"] == r.status_code
        for leak in ("Traceback", 'File "/', "duckdb", "Binder Error", "Parser Error", "app_id = $"):
            assert leak not in text, text[:500]


def count(w: World, creds: Creds) -> int:
    total, page = 0, 1
    while True:
        r = w.client.get(
            "/v2/session",
            params={"filters": json.dumps([ALL_TIME]), "page": page, "page_size": 500},
            headers=creds.read_headers,
        )
        assert r.status_code == 200, r.text
        total += len(r.json()["data"])
        if r.json()["pagination"]["next"] is None:
            return total
        page += 1


def read_endpoints(w: World) -> dict[str, list[str]]:
    """GET path -> its query parameters, from the app's OpenAPI document (so new endpoints are covered)."""
    spec = w.client.get("/openapi.json").json()
    out = {}
    for path, ops in spec["paths"].items():
        if "get" in ops and path.startswith("/v2/") and "{" not in path:
            out[path] = [p["name"] for p in ops["get"].get("parameters", []) if p["in"] == "query"]
    return out


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


# --- injection and traversal in every parameter -------------------------------------------------------


def test_every_query_parameter_of_every_read_endpoint(world: World) -> None:
    endpoints = read_endpoints(world)
    assert {"/v2/session", "/v2/session/analytics"} <= set(endpoints)
    tried = 0
    for path, names in endpoints.items():
        for name in [*names, "appid", "apikey", "unknown_param"]:
            for s in HOSTILE:
                params = {name: s}
                headers = world.a.read_headers if name not in ("appid", "apikey") else {}
                if name == "appid":
                    headers = {"apikey": world.a.apikey}
                elif name == "apikey":
                    headers = {"appid": world.a.appid}
                r = world.client.get(path, params=params, headers=headers)
                tried += 1
                assert_shape(r, world, allowed=(200, 400) if name not in ("appid", "apikey") else (401,))
    # the same strings as filter values, names and properties, GET and POST forms
    for path in endpoints:
        if path.endswith("/export"):
            continue
        for s in HOSTILE:
            filters = [
                ALL_TIME,
                {"attribute": "device_model", "operator": "in", "value": [s]},
                {"attribute": "user_custom_property", "property_name": s, "operator": "equal", "value": s},
            ]
            for r in (
                world.client.get(path, params={"filters": json.dumps(filters)}, headers=world.a.read_headers),
                world.client.post(path, json={"filters": filters, "page": s}, headers=world.a.read_headers),
                world.client.post(path, json={"filters": [{"attribute": s, "operator": s, "value": s}]},
                                  headers=world.a.read_headers),
            ):
                tried += 1
                assert_shape(r, world)
    print(f"\n{tried} hostile parameter requests")
    assert count(world, world.a) == world.count_a and count(world, world.b) == world.count_b


CREDENTIAL_HEADERS = [
    ("GET", "/v2/session", "appid"),
    ("GET", "/v2/session", "apikey"),
    ("POST", "/v2/ingest/sessions", "appid"),
    ("POST", "/v2/ingest/sessions", "X-Ingest-Key"),
    ("POST", "/v2/ingest/sessions", "Authorization"),
]


@pytest.mark.parametrize(("method", "path", "header"), CREDENTIAL_HEADERS)
def test_hostile_credential_headers(world: World, method: str, path: str, header: str) -> None:
    for s in HOSTILE:
        # a header carries latin-1 octets: send the UTF-8 bytes of the string as they are
        value = s.replace("\x00", "").encode("utf-8")
        if not value or len(value) > 8000:
            continue
        for v in (value, b"Bearer " + value) if header == "Authorization" else (value,):
            headers: dict = dict(world.a.read_headers if method == "GET" else world.a.ingest_headers)
            headers.pop("X-Ingest-Key" if header == "Authorization" else header)
            headers[header] = v
            r = world.client.request(method, path, headers=headers, json=[] if method == "POST" else None)
            assert_shape(r, world, allowed=(401,))


def test_request_ids_are_not_reflected_unless_plain(world: World) -> None:
    """X-Request-ID is echoed and logged: only a plain token is taken, anything else is replaced."""
    r = world.client.get("/v2/session", headers={**world.a.read_headers, "X-Request-ID": "abc-123.def_4:5"})
    assert r.headers["x-request-id"] == "abc-123.def_4:5"
    for s in [*INJECTIONS, "abc app=victim rid=forged", "x" * 500, "tab\there", "\u00e9t\u00e9"]:
        value = s.encode("utf-8")
        r = world.client.get("/v2/session", headers={**world.a.read_headers, "X-Request-ID": value})
        assert r.status_code == 200
        assert r.headers["x-request-id"].encode("latin-1") != value
        assert len(r.headers["x-request-id"]) == 32


def test_session_id_in_the_video_path(world: World) -> None:
    before = files_under(world.server.data_dir)
    tried = 0
    for s in [*HOSTILE, "a/../../b", "..%2F..%2Fsecret.key", "%2e%2e", "x" * 65, "ok-id\n", "dots..dots"]:
        if len(s) > 2000:
            continue
        for encoded in (quote(s, safe=""), quote(s, safe="/.")):
            r = world.client.put(
                f"/v2/ingest/sessions/{encoded}/video",
                content=b"\x00" * 100,
                headers={**world.a.ingest_headers, "Content-Type": "video/mp4"},
            )
            tried += 1
            assert_shape(r, world, allowed=(400, 404, 405))
    after = files_under(world.server.data_dir)
    new = {p for p in after - before if not p.name.startswith("server-")}
    assert new == set(), new
    assert tried > 50


def test_video_tokens(world: World) -> None:
    for s in [*HOSTILE, "a.b", "eyJhIjoiMSJ9.AAAA", "." * 100]:
        if len(s) > 2000:
            continue
        r = world.client.get(f"/v2/video/{quote(s, safe='')}")
        assert_shape(r, world, allowed=(403, 404))


def test_dashboard_and_static_paths(world: World) -> None:
    for s in TRAVERSALS + INJECTIONS:
        for path in (
            f"/static/{quote(s, safe='')}",
            f"/static/{quote(s, safe='/')}",
            f"/app/{world.a.appid}/sessions/list/1/{quote(s, safe='')}",
            f"/app/{quote(s, safe='')}/sessions/list/1",
            f"/app/{world.a.appid}/sessions/list/{quote(s, safe='')}",
        ):
            r = world.client.get(path)
            assert r.status_code < 500, (path, r.status_code, r.text[:300])
            assert SECRET not in r.text and "root:x:0:0" not in r.text


# --- bodies -------------------------------------------------------------------------------------------


def post_raw(w: World, path: str, content: bytes, content_type: str = "application/json", **headers: str) -> httpx.Response:
    base = w.a.ingest_headers if path.startswith("/v2/ingest") else w.a.read_headers
    return w.client.post(path, content=content, headers={**base, "Content-Type": content_type, **headers})


MALFORMED = [
    b"",
    b" ",
    b"[",
    b"[{]",
    b"{",
    b'{"sessionId": "x"',
    b"null",
    b"true",
    b"42",
    b'"a string"',
    b"[1, 2, 3]",
    b"[null]",
    b"[[]]",
    b"[NaN]",
    b'[{"sessionId": "x", "property": {"durationSec": NaN}}]',
    b'[{"sessionId": "x", "sessionId": "y"}]',
    b"\xef\xbb\xbf[]",
    b"\xff\xfe[\x00]\x00",
    b'[{"sessionId": "\xff\xfe"}]',
    b'[{"sessionId": "\xed\xa0\x80"}]',  # a UTF-8-encoded surrogate
    b'[{"sessionId": "ok", "user": {"kUXCam_UserIdentity": "\xc3\x28"}}]',
    b"\x00" * 100,
    b"[" * 100_000,
    b"[" * 100_000 + b"]" * 100_000,
    b'[{"a":' * 5_000 + b"1" + b"}" * 5_000 + b"]",
    b"[" + b'{"sessionId": "deep", "user": {"kUXCam_UserIdentity": "d"}, "x": ' + b"[" * 3_000 + b"]" * 3_000 + b"}]",
    b'[{"sessionId": "big-num", "property": {"durationSec": 1' + b"0" * 5_000 + b"}}]",
]


@pytest.mark.parametrize("body", MALFORMED, ids=[f"body-{i}" for i in range(len(MALFORMED))])
def test_malformed_ingest_and_read_bodies(world: World, body: bytes) -> None:
    r = post_raw(world, "/v2/ingest/sessions", body)
    assert_shape(r, world, allowed=(200, 400))
    if r.status_code == 200:
        assert r.json()["accepted"] == 0 or body.startswith(b"[{"), r.text
    r = post_raw(world, "/v2/ingest/sessions", body, "application/x-ndjson")
    assert_shape(r, world, allowed=(200, 400))
    for path in ("/v2/session", "/v2/session/analytics"):
        assert_shape(post_raw(world, path, body), world)


def test_deeply_nested_json_in_query_parameters(world: World) -> None:
    for name in ("filters", "group_by", "aggregation"):
        for value in ("[" * 20_000, "[" * 5_000 + "]" * 5_000,
                      '[{"attribute": "device_model", "operator": "in", "value": ' + "[" * 3_000 + "]" * 3_000 + "}]"):
            for path in ("/v2/session", "/v2/session/analytics"):
                r = world.client.get(path, params={name: value}, headers=world.a.read_headers)
                assert_shape(r, world)


def test_invalid_utf8_in_query_strings(world: World) -> None:
    for raw in (b"%FF%FE", b"%C3%28", b"%ED%A0%80", b"%00", b"%", b"%G0", b"%E2%82"):
        for name in (b"filters", b"page", b"page_size", b"appid", b"with_video"):
            url = world.server.base_url.encode() + b"/v2/session?" + name + b"=" + raw
            r = world.client.get(url.decode("latin-1"), headers=world.a.read_headers)
            assert_shape(r, world, allowed=(200, 400, 401) if name == b"appid" else (200, 400))
        filters = b"%5B%7B%22attribute%22%3A%22device_model%22%2C%22operator%22%3A%22equal%22%2C%22value%22%3A%22" + raw + b"%22%7D%5D"
        url = world.server.base_url.encode() + b"/v2/session?filters=" + filters
        assert_shape(world.client.get(url.decode("latin-1"), headers=world.a.read_headers), world)


def raw_request(w: World, data: bytes) -> bytes:
    """Send raw bytes, return whatever comes back before the server closes or 5 s pass."""
    with socket.create_connection(("127.0.0.1", w.server.port), timeout=5) as sock:
        sock.sendall(data)
        out = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and b"Connection: close" not in out and len(out) > 100:
                    break
        except TimeoutError:
            pass
    return out


def test_raw_invalid_bytes_in_the_request_line_and_headers(world: World) -> None:
    """Bytes HTTP does not allow: refused by the protocol layer (4xx) or the app, and the server stays up."""
    appid = world.a.appid.encode()
    for req in (
        b"GET /v2/session?filters=\xff\xfe HTTP/1.1\r\nHost: x\r\nappid: " + appid + b"\r\n\r\n",
        b"GET /v2/\xc3\x28session HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v2/session HTTP/1.1\r\nHost: x\r\nappid: \xff\xfe\r\napikey: \x80\r\n\r\n",
        b"GET /v2/session HTTP/1.1\r\nHost: x\r\nX-Request-ID: \xff\r\n\r\n",
        b"POST /v2/ingest/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /v2/ingest/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"POST /v2/ingest/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS hello on the plain port
        b"GET /v2/session?filters=" + b"%5B" * 300_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # a 900 kB URL
        b"GET /v2/session HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n",  # a 1 MB header
    ):
        out = raw_request(world, req)
        if out:
            status = int(out.split(b" ", 2)[1])
            assert 400 <= status < 500, out[:300]
    assert world.client.get("/healthz").status_code == 200


# --- limits -------------------------------------------------------------------------------------------


def too_large(r: httpx.Response, w: World) -> None:
    """A 413 in the SPEC shape that names the body as what is over its limit."""
    assert_shape(r, w, allowed=(413,))
    assert r.json()["error"]["param"] == "body", r.text


def test_oversized_bodies_are_413(world: World) -> None:
    big = json.dumps([{"sessionId": f"s{i}", "device": {"deviceId": "d" * 1000}} for i in range(MAX_BODY // 1000)]).encode()
    assert len(big) > MAX_BODY
    r = post_raw(world, "/v2/ingest/sessions", big)
    too_large(r, world)
    # without a Content-Length (chunked): refused while reading
    r = world.client.post(
        "/v2/ingest/sessions",
        content=iter([big[i : i + 8192] for i in range(0, len(big), 8192)]),
        headers={**world.a.ingest_headers, "Content-Type": "application/json"},
    )
    too_large(r, world)
    # a gzip bomb: small on the wire, over the limit when inflated
    bomb = gzip.compress(b"[" + b" " * (MAX_BODY * 4) + b"]")
    assert len(bomb) < MAX_BODY
    r = post_raw(world, "/v2/ingest/sessions", bomb, **{"Content-Encoding": "gzip"})
    too_large(r, world)
    # too many sessions in one batch
    many = [{"sessionId": f"m{i}", "device": {"deviceId": "d"}} for i in range(MAX_BATCH + 1)]
    too_large(post_raw(world, "/v2/ingest/sessions", json.dumps(many).encode()), world)
    ndjson = b"\n".join(json.dumps(d).encode() for d in many)
    too_large(post_raw(world, "/v2/ingest/sessions", ndjson, "application/x-ndjson"), world)
    # a read request's JSON body is bounded too
    huge_filter = json.dumps({"filters": [{"attribute": "device_model", "operator": "in", "value": ["x" * 1000] * (MAX_BODY // 900)}]}).encode()
    too_large(post_raw(world, "/v2/session", huge_filter), world)
    too_large(
        world.client.post(
            "/v2/session/analytics",
            content=iter([huge_filter[i : i + 8192] for i in range(0, len(huge_filter), 8192)]),
            headers={**world.a.read_headers, "Content-Type": "application/json"},
        ),
        world,
    )
    # a video over its limit, for a session the app holds: refused, no file left behind
    some = world.client.get("/v2/session", params={"page_size": 1}, headers=world.a.read_headers).json()["data"]
    r = world.client.put(
        "/v2/ingest/sessions/" + some[0]["sessionId"] + "/video",
        content=b"\x00" * (MAX_VIDEO + 1),
        headers={**world.a.ingest_headers, "Content-Type": "video/mp4"},
    )
    too_large(r, world)
    folder = world.server.data_dir / "videos" / world.a.appid
    assert not folder.exists() or not any(folder.iterdir())
    assert count(world, world.a) == world.count_a


# --- slow clients -------------------------------------------------------------------------------------


def test_slow_clients_do_not_block_others(world: World) -> None:
    """Twenty clients trickle their bodies (and some their headers) one byte at a time; others are served."""
    doc = json.dumps([{"sessionId": "slow-0", "user": {"kUXCam_UserIdentity": "slow"},
                       "property": {"uploadedServerTime": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")}}]).encode()
    stop = threading.Event()
    answers: list[bytes] = []

    def slow_body(n: int) -> None:
        head = (
            f"POST /v2/ingest/sessions HTTP/1.1\r\nHost: x\r\nappid: {world.a.appid}\r\n"
            f"X-Ingest-Key: {world.a.ingest_key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(doc)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", world.server.port), timeout=30) as sock:
            sock.sendall(head)
            for i in range(len(doc)):
                if stop.is_set():
                    return
                sock.sendall(doc[i : i + 1])
                time.sleep(4.0 / len(doc))
            answers.append(sock.recv(65536))

    def slow_headers() -> None:
        head = f"GET /v2/session HTTP/1.1\r\nHost: x\r\nappid: {world.a.appid}\r\n".encode()
        with socket.create_connection(("127.0.0.1", world.server.port), timeout=30) as sock:
            for i in range(len(head)):
                if stop.is_set():
                    return
                sock.sendall(head[i : i + 1])
                time.sleep(0.05)

    threads = [threading.Thread(target=slow_body, args=(i,), daemon=True) for i in range(15)]
    threads += [threading.Thread(target=slow_headers, daemon=True) for _ in range(5)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    latencies = []
    try:
        with httpx.Client(base_url=world.server.base_url, timeout=10) as fast:
            t_end = time.monotonic() + 3
            while time.monotonic() < t_end:
                t = time.perf_counter()
                r = fast.get("/v2/session", params={"page_size": 5}, headers=world.a.read_headers)
                latencies.append(time.perf_counter() - t)
                assert r.status_code == 200
                t = time.perf_counter()
                r = fast.post("/v2/ingest/sessions", content=doc.replace(b"slow-0", b"fast-0"),
                              headers={**world.a.ingest_headers, "Content-Type": "application/json"})
                latencies.append(time.perf_counter() - t)
                assert r.status_code == 200 and r.json()["accepted"] == 1
    finally:
        for t in threads[:15]:
            t.join(15)
        stop.set()
    latencies.sort()
    assert len(latencies) >= 10
    assert latencies[len(latencies) // 2] < 0.5 and latencies[-1] < 3.0, latencies
    # the slow uploads themselves went through
    assert len(answers) == 15 and all(a.startswith(b"HTTP/1.1 200") for a in answers), answers[:2]
    world.count_a += 2  # slow-0 and fast-0


def test_no_key_in_the_server_log(world: World) -> None:
    """After every hostile request above: no key, no secret and no file content in the log."""
    assert world.server.log_path is not None
    log = world.server.log_path.read_text(errors="replace")
    assert "/v2/ingest/sessions" in log
    for secret in (world.a.apikey, world.a.ingest_key, world.b.apikey, world.b.ingest_key, SECRET, "root:x:0:0"):
        assert secret not in log
