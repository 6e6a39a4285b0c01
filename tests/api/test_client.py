"""`sessionscope.Client` against a real server (no mocks): paging, typed errors, 429 retries, DataFrames."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sessionscope import Client
from sessionscope.client import BadRequest, NotFound, RateLimited, Rows, Unauthorized
from sessionscope.demo import generate_sessions
from support.server import Server, ingest

from .compare import same

ANDROID = [{"attribute": "device_platform", "operator": "equal", "value": "android"}]


def pages(loaded, path: str, filters: list | None, page_size: int) -> list[list[dict]]:
    """What the list endpoint answers, page by page."""
    out, page = [], 1
    while True:
        params = {"page": page, "page_size": page_size}
        if filters is not None:
            params["filters"] = json.dumps(filters)
        body = loaded.client.get(path, params=params, headers=loaded.a.read_headers).json()
        out.append(body["data"])
        if body["pagination"]["next"] is None:
            return out
        page += 1


@pytest.fixture
def client(loaded):
    with Client(loaded.server.base_url, loaded.a.appid, loaded.a.apikey) as c:
        yield c


@pytest.mark.parametrize(
    "method,path,filters",
    [
        ("sessions", "/v2/session", ANDROID),
        ("sessions", "/v2/session", None),
        ("users", "/v2/user", [{"attribute": "user_session_count", "operator": "greater", "value": 4}]),
        ("events", "/v2/event", [{"attribute": "event_name", "operator": "equal", "value": "Add to cart"}]),
    ],
)
def test_paging_is_the_list_endpoints_pages(loaded, client: Client, method: str, path: str, filters) -> None:
    rows: Rows = getattr(client, method)(filters=filters, page_size=333)
    want = pages(loaded, path, filters, 333)
    assert same(list(rows.pages()), want)
    assert same(rows.to_list(), [r for p in want for r in p])
    assert len(want) > 1 or method != "sessions"


def test_max_rows_stops_early(client: Client, loaded) -> None:
    rows = client.sessions(page_size=10, max_rows=25).to_list()
    assert [r["sessionId"] for r in rows] == [r["sessionId"] for p in pages(loaded, "/v2/session", None, 10)[:3] for r in p][:25]


def test_analytics_rows(loaded, client: Client) -> None:
    group_by = [{"attribute": "device_model", "max_group_number": 30}]
    rows = client.analytics("session", group_by=group_by, page_size=7).to_list()
    body = loaded.client.get(
        "/v2/session/analytics",
        params={"group_by": json.dumps(group_by), "page_size": 500},
        headers=loaded.a.read_headers,
    ).json()
    strip = lambda rs: [{k: v for k, v in r.items() if k != "dashboard_link"} for r in rs]  # noqa: E731
    assert same(strip(rows), strip(body["data"])) and len(rows) == 31
    compared = client.analytics("user", comparison=True).to_list()
    assert len(compared) == 1 and "user_count_pct_change" in compared[0]
    events = client.analytics("event", aggregation=[{"attribute": "event_count", "operator": ""}]).to_list()
    assert events[0]["event_count"] == sum(len(d.get("events") or []) for d in loaded.docs_a)
    with pytest.raises(ValueError):
        client.analytics("video")


def test_long_filters_go_as_a_post_body(loaded, client: Client) -> None:
    many = [{"attribute": "device_model", "operator": "not_equal", "value": f"model-{i:04d}"} for i in range(90)]
    rows = client.sessions(filters=[*many, *ANDROID]).to_list()
    assert [r["sessionId"] for r in rows] == [r["sessionId"] for p in pages(loaded, "/v2/session", ANDROID, 500) for r in p]


def test_errors_are_typed_with_the_bodys_fields(loaded, client: Client) -> None:
    with pytest.raises(BadRequest) as bad:
        client.sessions(filters=[ANDROID[0], {"attribute": "session_duration", "operator": "contains", "value": "1"}]).to_list()
    assert bad.value.status == 400 and bad.value.code == "invalid_request"
    assert bad.value.param == "filters" and bad.value.path == "[1].operator"
    assert "contains" in bad.value.message
    with pytest.raises(BadRequest) as bad:
        client.analytics("user", group_by=[{"attribute": "nope"}]).to_list()
    assert (bad.value.param, bad.value.path) == ("group_by", "[0].attribute")
    with Client(loaded.server.base_url, loaded.a.appid, "wrong-key") as wrong:
        with pytest.raises(Unauthorized) as unauthorized:
            wrong.users().to_list()
    assert unauthorized.value.status == 401 and "wrong-key" not in str(unauthorized.value)
    with pytest.raises(NotFound):
        client.request("/no-such-thing")


def test_dataframes(client: Client, loaded) -> None:
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    sessions = client.sessions(filters=ANDROID)
    n = len(sessions.to_list())
    frame = sessions.to_pandas()
    assert isinstance(frame, pd.DataFrame) and len(frame) == n
    assert {"sessionId", "property.durationSec", "device.model", "user.uxcamuserid"} <= set(frame.columns)
    users = client.users().to_polars()
    assert isinstance(users, pl.DataFrame)
    assert users.height == len({d["user"]["uxcamuserid"] for d in loaded.docs_a})
    assert "usage.totalSession" in users.columns
    nested = client.analytics("event", group_by=[{"attribute": "event_name"}]).to_pandas(flat=False)
    assert list(nested.columns)[:2] == ["event_name", "event_count"]


def test_export_to_a_file(client: Client, tmp_path: Path, loaded) -> None:
    path = client.export(tmp_path / "s.ndjson", "session", filters=ANDROID)
    lines = path.read_bytes().splitlines()
    assert len(lines) == len(client.sessions(filters=ANDROID).to_list())
    with pytest.raises(BadRequest):
        client.export(tmp_path / "x", "session", format="xml")


# -- 429: a server with rate limits on ------------------------------------------------------------------------


@dataclass
class LimitedServer(Server):
    per_second: int = 2

    @property
    def env(self) -> dict[str, str]:
        env = super().env
        env["SESSIONSCOPE_RATE_LIMIT_PER_SECOND"] = str(self.per_second)
        return env


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("limited")
    server = LimitedServer(data_dir=data_dir, store_url=f"duckdb:///{data_dir / 'store.duckdb'}")
    creds = server.create_app("limited")
    server.start()
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    ingest(server.client(), creds, list(generate_sessions(120, days=10, seed=5, now=now)), batch=120)
    yield server, creds
    server.stop()


def test_429_is_retried_after_retry_after(limited) -> None:
    server, creds = limited
    time.sleep(1.1)  # a full bucket
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with Client(server.base_url, creds.appid, creds.apikey, sleep=sleep) as client:
        # 12 pages of 10 sessions at 2 requests a second: the client must wait its way through
        rows = client.sessions(page_size=10).to_list()
    assert len(rows) == 120
    assert slept and all(s == 1.0 for s in slept), slept  # Retry-After: 1 with a per-second limit
    assert len(slept) >= 4


def test_429_raises_once_the_retries_are_spent(limited) -> None:
    server, creds = limited
    time.sleep(1.1)
    with Client(server.base_url, creds.appid, creds.apikey, max_retries=0) as client:
        client.users(page_size=500).to_list()
        client.users(page_size=500).to_list()
        with pytest.raises(RateLimited) as limited_error:
            client.users(page_size=500).to_list()
    err = limited_error.value
    assert err.status == 429 and err.code == "rate_limited" and err.retry_after == 1.0
    assert "2 requests per second" in err.message


def test_a_wait_longer_than_max_retry_wait_is_not_waited(limited) -> None:
    """A 429 whose Retry-After exceeds max_retry_wait (an hourly limit's) cannot be waited out: raised at
    once, without sleeping."""
    server, creds = limited
    time.sleep(1.1)
    slept: list[float] = []
    with Client(server.base_url, creds.appid, creds.apikey, max_retry_wait=0.5, sleep=slept.append) as client:
        with pytest.raises(RateLimited):
            for _ in range(4):
                client.users(page_size=500).to_list()
    assert slept == [] and client.retries == 0


def test_export_waits_out_a_429_too(limited, tmp_path: Path) -> None:
    server, creds = limited
    time.sleep(1.1)
    with Client(server.base_url, creds.appid, creds.apikey) as client:
        paths = [client.export(tmp_path / f"e{i}.ndjson", "session") for i in range(4)]  # 2 a second allowed
        assert client.retries >= 1
    assert [len(p.read_bytes().splitlines()) for p in paths] == [120] * 4
    assert sorted(x.name for x in tmp_path.iterdir()) == [f"e{i}.ndjson" for i in range(4)]  # no .part left


# -- a server of its own: mixed property shapes, rows arriving while pages are read ------------------------


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("own")
    server = Server(data_dir=data_dir, store_url=f"duckdb:///{data_dir / 'store.duckdb'}")
    creds = server.create_app("own")
    server.start()
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    docs = list(generate_sessions(300, days=10, seed=8, now=now))
    odd = [("vip", "beta"), "vip", 5, True, None]
    for i, tags in enumerate(odd):
        docs[i]["user"]["tags"] = list(tags) if isinstance(tags, tuple) else tags
    docs[5]["user"]["nested"] = {"a": [1, 2, {"b": None}]}
    ingest(server.client(), creds, docs, batch=300)
    yield server, creds, docs
    server.stop()


def test_polars_keeps_values_of_mixed_shapes_as_json_text(own) -> None:
    pl = pytest.importorskip("polars")
    server, creds, docs = own
    with Client(server.base_url, creds.appid, creds.apikey) as client:
        frame = client.sessions().to_polars()
        users = client.users().to_polars()
    assert frame.height == len(docs) and users.height == len({d["user"]["uxcamuserid"] for d in docs})
    by_id = dict(zip(frame["sessionId"].to_list(), frame["user.tags"].to_list(), strict=True))
    for d in docs[:5]:
        sent = d["user"]["tags"]
        assert by_id[d["sessionId"]] == (None if sent is None else json.dumps(sent)), sent
    nested = dict(zip(frame["sessionId"].to_list(), frame["user.nested.a"].to_list(), strict=True))
    assert json.loads(nested[docs[5]["sessionId"]]) == [1, 2, {"b": None}]
    # columns of one kind keep their types
    assert frame.schema["property.durationSec"] == pl.Float64 and frame.schema["property.isCrashed"] == pl.Boolean


def test_rows_stored_while_paging_come_once(own) -> None:
    """Newest first: sessions stored between pages push older ones onto later pages; the client yields each
    row once and misses none of those there at the start."""
    server, creds, docs = own
    now = datetime.now(UTC).replace(microsecond=0)
    with Client(server.base_url, creds.appid, creds.apikey) as client:
        before = {r["sessionId"] for r in client.sessions()}
        pages = client.sessions(page_size=40).pages()
        seen = [r["sessionId"] for r in next(pages)]
        late = [{**d, "sessionId": f"late-{i}", "property": {**d["property"], "uploadedServerTime": now.strftime("%Y-%m-%dT%H:%M:%SZ")}}
                for i, d in enumerate(docs[:15])]
        ingest(server.client(), creds, late)
        for page in pages:
            seen += [r["sessionId"] for r in page]
    assert len(seen) == len(set(seen))
    assert before <= set(seen) and len(before) == len(docs)


def test_an_export_cut_off_leaves_no_file(tmp_path: Path) -> None:
    """The server goes away mid-stream (a real socket: a chunked answer that stops): the export raises and
    leaves neither the file nor its .part."""
    import socket
    import threading

    import httpx

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_one() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            line = b'{"sessionId": "s1"}\n'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
                         + f"{len(line):x}\r\n".encode() + line + b"\r\n")
        listener.close()

    threading.Thread(target=serve_one, daemon=True).start()
    with Client(f"http://127.0.0.1:{port}", "a" * 24, "key") as client:
        with pytest.raises(httpx.HTTPError):
            client.export(tmp_path / "cut.ndjson", "session")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "dates",
    [
        [],
        [{"attribute": "date_range", "operator": "not_on", "value": "2001-01-01"}],  # the default window less a day
        [{"attribute": "date_range", "operator": "after", "value": "2001-01-01"}],  # from that day to the request's time
    ],
    ids=["default", "not_on", "after"],
)
def test_a_user_moving_up_while_paging_is_not_missed(own, dates: list) -> None:
    """Users come most recently seen first: a user further down who gets a new session while the pages are
    read would move onto a page already read. The client pins a window that would end at each request's
    time (the default one, `not_on`'s, `after`'s) when it reads the first page, so the order holds and
    every user there at the start comes once."""
    server, creds, docs = own
    with Client(server.base_url, creds.appid, creds.apikey) as client:
        before = [r["uxcamUserId"] for r in client.users(filters=dates)]
        assert len(before) > 30
        pages = client.users(filters=dates, page_size=10).pages()
        seen = [r["uxcamUserId"] for r in next(pages)] + [r["uxcamUserId"] for r in next(pages)]
        mover = before[25]  # on the third page, not read yet
        theirs = next(d for d in docs if d["user"].get("uxcamuserid") == mover)
        new = {**theirs, "sessionId": f"mover-{len(dates) and dates[0]['operator']}",
               "property": {k: v for k, v in theirs["property"].items() if k != "uploadedServerTime"}}
        ingest(server.client(), creds, [new])  # stamped by the server: now
        unpinned = server.client().get("/v2/user", params={"page_size": 500, "filters": json.dumps(dates)},
                                       headers=creds.read_headers).json()
        # now on a page already read (other tests' users seen in the same second may share the top)
        assert [r["uxcamUserId"] for r in unpinned["data"]].index(mover) < len(seen)
        for page in pages:
            seen += [r["uxcamUserId"] for r in page]
    assert len(seen) == len(set(seen)) and set(seen) == set(before)


def test_filters_as_any_sequence_and_max_rows_checked(own) -> None:
    server, creds, docs = own
    # the fixture's sessions alone (up to 2 hours ago): other tests add sessions stamped with the time they
    # are sent, and a window ending now would take those sent within the second between the two listings
    before = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fixed = [*ANDROID, {"attribute": "date_range", "operator": "between_dates", "value": {"lower": "2000-01-01", "upper": before}}]
    with Client(server.base_url, creds.appid, creds.apikey) as client:
        want = [r["sessionId"] for r in client.sessions(filters=list(fixed))]
        assert [r["sessionId"] for r in client.sessions(filters=tuple(fixed))] == want
        assert len(want) == sum(d.get("device", {}).get("platform") in ("android", 1) for d in docs) > 0
        assert client.sessions(max_rows=0).to_list() == []
        with pytest.raises(ValueError, match="max_rows must be a whole number >= 0"):
            client.sessions(max_rows=-1)


def test_export_format_follows_the_file_name(own, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    server, creds, docs = own
    with Client(server.base_url, creds.appid, creds.apikey) as client:
        table = pq.read_table(client.export(tmp_path / "all.parquet"))
        lines = client.export(tmp_path / "all.jsonl").read_text().splitlines()
        with pytest.raises(ValueError, match="format='csv' but the file x.parquet is named for parquet"):
            client.export(tmp_path / "x.parquet", format="csv")
    ids = table.column("sessionId").to_pylist()
    assert table.num_rows == len(lines) and sorted(ids) == sorted(json.loads(x)["sessionId"] for x in lines)
    assert {d["sessionId"] for d in docs} <= set(ids)
    assert not (tmp_path / "x.parquet").exists()


def test_a_503_is_retried_after_its_retry_after() -> None:
    """A store briefly unavailable answers 503 with Retry-After (api/responses.py): the client waits and asks
    again, as for a 429, and raises ServiceUnavailable once the retries are spent. A real socket server."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from sessionscope import ServiceUnavailable

    answers = [503, 503, 200]
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            asked.append(self.path)
            status = answers.pop(0) if answers else 503
            if status == 503:
                body = {"success": False, "error": {"status": 503, "code": "store_unavailable", "message": "try again"}}
            else:
                body = {"success": True, "data": [{"sessionId": "s1"}], "pagination": {"current": 1, "next": None, "total": 1}}
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Retry-After", "2")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        slept: list[float] = []
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        with Client(url, "a" * 24, "key", sleep=slept.append) as client:
            assert client.sessions().to_list() == [{"sessionId": "s1"}]
            assert slept == [2.0, 2.0] and client.retries == 2 and len(asked) == 3
        with Client(url, "a" * 24, "key", max_retries=1, sleep=slept.append) as client:
            with pytest.raises(ServiceUnavailable) as unavailable:
                client.sessions().to_list()
        assert unavailable.value.retry_after == 2.0 and len(asked) == 5
    finally:
        httpd.shutdown()
