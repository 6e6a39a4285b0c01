"""Reads answered from kept results run on the event loop; everything else in the thread pool; the answers are
the same either way, and never older than the last acknowledged write."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from sessionscope import apps, service
from sessionscope.api import create_app
from sessionscope.demo import generate_sessions
from sessionscope.settings import Settings
from sessionscope.store.duckdb import DuckDBStore
from support.server import free_port

NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = {"attribute": "date_range", "operator": "between_dates",
          "value": {"lower": (NOW - timedelta(days=30)).date().isoformat(), "upper": NOW.date().isoformat()}}
READS = {
    "/v2/session": {"page_size": 20},
    "/v2/session/analytics": {"group_by": [{"attribute": "device_country", "max_group_number": 5}]},
    "/v2/user": {"page_size": 20},
    "/v2/user/analytics": {},
    "/v2/event": {"page_size": 20},
    "/v2/event/analytics": {"comparison": "true"},
}


class ThreadRecordingStore(DuckDBStore):
    """The real store, noting the thread each read that answered ran in (not one that raised NotCached)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.threads: list[str] = []

    def query(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        rows = super().query(sql, params)
        self.threads.append(threading.current_thread().name)
        return rows


class Clock:
    """The request clock (service.request_now), held still so that a test decides when the second changes."""

    def __init__(self) -> None:
        self.now = NOW.replace(tzinfo=None)

    def __call__(self) -> datetime:
        return self.now

    def tick(self) -> None:
        self.now += timedelta(seconds=1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    held = Clock()
    monkeypatch.setattr(service, "request_now", held)
    return held


@pytest.fixture(params=[256, 0], ids=["cache", "no-cache"])
def served(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[tuple[httpx.Client, ThreadRecordingStore, dict]]:
    store = ThreadRecordingStore(str(tmp_path / "s.duckdb"), result_cache=request.param)
    creds = apps.create_app(store, "inline")
    app = create_app(Settings(data_dir=tmp_path, secret_key="k" * 32), store=store)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, name="event-loop", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    headers = {"appid": creds.appid, "apikey": creds.apikey, "X-Ingest-Key": creds.ingest_key}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
        docs = list(generate_sessions(120, days=20, seed=4, now=NOW - timedelta(hours=1)))
        r = client.post("/v2/ingest/sessions", params={"appid": creds.appid}, json=docs)
        assert r.status_code == 200 and r.json()["accepted"] == 120, r.text
        try:
            yield client, store, headers
        finally:
            server.should_exit = True
            thread.join(10)


def get(client: httpx.Client, path: str, params: dict) -> httpx.Response:
    query = {"filters": json.dumps([WINDOW]), **{k: v if isinstance(v, str | int) else json.dumps(v)
                                                  for k, v in params.items()}}
    return client.get(path, params=query)


def same(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-12: an engine may add a float average's values in another order on another run."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_a_repeated_read_is_answered_on_the_loop_with_the_same_answer(served, clock: Clock) -> None:
    client, store, _ = served
    cached = store.results.enabled
    for path, params in READS.items():
        store.threads.clear()
        first = get(client, path, params)
        assert first.status_code == 200, first.text
        assert store.threads and "event-loop" not in store.threads  # computed in the pool
        store.threads.clear()
        hits = store.results.hits
        again = get(client, path, params)
        if cached:
            # the kept answer: the same bytes, and no read at all
            assert again.content == first.content, path
            assert store.threads == [] and store.results.hits == hits + 1, (path, store.threads)
            # in the next second the answer is computed again, on the loop, every read of it a kept result
            clock.tick()
            later = get(client, path, params)
            assert later.json()["data"] == first.json()["data"], path
            assert set(store.threads) == {"event-loop"}, (path, store.threads)
            assert store.results.hits - hits - 1 == len(store.threads)
        else:
            assert same(again.json(), first.json()), path
            assert store.threads and "event-loop" not in store.threads
        # the POST form takes the same path and gives the same answer
        body = {"filters": [WINDOW], **{k: v for k, v in params.items()}}
        posted = client.post(path, json=body)
        assert posted.status_code == 200 and same(posted.json()["data"], first.json()["data"]), path


def test_a_kept_answer_is_only_for_the_same_app_and_parameters(served) -> None:
    client, store, headers = served
    other = apps.create_app(store, "other")
    docs = list(generate_sessions(7, days=3, seed=12, now=NOW - timedelta(hours=2)))
    r = client.post("/v2/ingest/sessions", json=docs, headers={"appid": other.appid, "X-Ingest-Key": other.ingest_key})
    assert r.status_code == 200 and r.json()["accepted"] == 7
    mine = [get(client, "/v2/session/analytics", {}).json()["data"][0]["session_count"] for _ in range(2)]
    theirs = client.get("/v2/session/analytics", params={"filters": json.dumps([WINDOW])},
                        headers={"appid": other.appid, "apikey": other.apikey})
    assert mine == [120, 120] and theirs.json()["data"][0]["session_count"] == 7
    # other parameters, sent the same way or as a POST body, are other answers
    ios = [{"attribute": "device_platform", "operator": "equal", "value": "ios"}]
    want = store.query("SELECT count(*) FROM sessions WHERE app_id = $1 AND platform = 'ios'", [headers["appid"]])[0][0]
    got = client.get("/v2/session/analytics", params={"filters": json.dumps([WINDOW, *ios])})
    posted_all = client.post("/v2/session/analytics", json={"filters": [WINDOW]})
    posted = client.post("/v2/session/analytics", json={"filters": [WINDOW, *ios]})
    assert posted_all.json()["data"][0]["session_count"] == 120
    assert got.status_code == 200, got.text
    assert got.json()["data"][0]["session_count"] == want == posted.json()["data"][0]["session_count"] < 120


def test_an_acknowledged_write_is_seen_by_the_next_read(served) -> None:
    client, store, headers = served
    every_country = {"group_by": [{"attribute": "device_country", "max_group_number": 1000}]}
    grouped_before = get(client, "/v2/session/analytics", every_country).json()["data"]
    before = get(client, "/v2/session/analytics", {}).json()["data"][0]["session_count"]
    assert get(client, "/v2/session/analytics", {}).json()["data"][0]["session_count"] == before
    doc = next(iter(generate_sessions(1, days=1, seed=99, now=NOW - timedelta(minutes=5))))
    doc["sessionId"] = "inline-new-1"
    r = client.post("/v2/ingest/sessions", json=[doc])
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert get(client, "/v2/session/analytics", {}).json()["data"][0]["session_count"] == before + 1
    # a kept grouped result is not served either: the new session's country has one more
    grouped = get(client, "/v2/session/analytics", every_country).json()["data"]
    counts = {row["device_country"]: row["session_count"] for row in grouped}
    counts_before = {row["device_country"]: row["session_count"] for row in grouped_before}
    assert sum(counts.values()) == before + 1
    country = doc["device"].get("country")
    assert counts[country] == counts_before.get(country, 0) + 1


def test_errors_are_answered_on_either_path(served) -> None:
    client, _, headers = served
    r = get(client, "/v2/session/analytics", {"group_by": [{"attribute": "nope"}]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "group_by", r.text
    r = client.get("/v2/session", headers={"appid": headers["appid"], "apikey": "sk_wrong"})
    assert r.status_code == 401 and r.json()["success"] is False
    r = client.put("/v2/session")
    assert r.status_code == 405 and r.json()["success"] is False


def test_another_apps_write_leaves_this_apps_kept_answers(served) -> None:
    """Kept answers are per app: app B's ingest leaves app A's dashboard answered from kept results, and
    each app's next read after its own acknowledged write sees that write."""
    client, store, headers = served
    other = apps.create_app(store, "other")  # a write of no app: everything kept so far is discarded
    theirs = {"appid": other.appid, "apikey": other.apikey}
    ingest_theirs = {"appid": other.appid, "X-Ingest-Key": other.ingest_key}
    docs = list(generate_sessions(8, days=3, seed=12, now=NOW - timedelta(hours=2)))
    r = client.post("/v2/ingest/sessions", json=docs[:7], headers=ingest_theirs)
    assert r.status_code == 200 and r.json()["accepted"] == 7

    def count(app: str) -> int:  # outside any app's reads: recomputed after every write
        return store.query("SELECT count(*) FROM sessions WHERE app_id = $1", [app])[0][0]

    def sessions(extra: dict[str, str] | None = None) -> tuple[int, bool]:
        """The analytics answer's session count, and whether it was the kept answer (no read ran)."""
        store.threads.clear()
        hits = store.results.hits
        got = client.get("/v2/session/analytics", params={"filters": json.dumps([WINDOW])}, headers=extra)
        assert got.status_code == 200, got.text
        return got.json()["data"][0]["session_count"], store.threads == [] and store.results.hits == hits + 1

    cached = store.results.enabled
    mine = count(headers["appid"])
    assert sessions() == (mine, False)
    assert sessions() == (mine, cached)
    assert sessions(theirs) == (7, False)
    r = client.post("/v2/ingest/sessions", json=docs[7:], headers=ingest_theirs)  # the other app's write
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert sessions() == (mine, cached)  # still the kept answer, and still right
    assert sessions(theirs) == (8, False) and count(other.appid) == 8
    doc = next(iter(generate_sessions(1, days=1, seed=98, now=NOW - timedelta(minutes=5))))
    doc["sessionId"] = "inline-mine-1"
    r = client.post("/v2/ingest/sessions", json=[doc])  # this app's write
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert sessions() == (mine + 1, False) and count(headers["appid"]) == mine + 1
    assert sessions(theirs) == (8, cached)


def test_a_dashboard_page_keeps_its_reads_across_another_apps_write(served) -> None:
    client, store, headers = served
    if not store.results.enabled:
        pytest.skip("kept results only")
    other = apps.create_app(store, "other")
    r = client.post("/login", data={"appid": headers["appid"], "apikey": headers["apikey"], "next": ""},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    cookie = {"Cookie": r.headers["set-cookie"].split(";", 1)[0]}
    page = f"/app/{headers['appid']}/analytics?g1=device_country"

    def new_reads() -> int:
        """Reads the page ran on the engine (not kept results), and a check that it rendered."""
        misses = store.results.misses
        got = client.get(page, headers=cookie)
        assert got.status_code == 200 and "<table" in got.text, got.text[:300]
        return store.results.misses - misses

    assert new_reads() > 0
    assert new_reads() == 0
    docs = list(generate_sessions(3, days=1, seed=13, now=NOW - timedelta(hours=1)))
    r = client.post("/v2/ingest/sessions", json=docs, headers={"appid": other.appid, "X-Ingest-Key": other.ingest_key})
    assert r.status_code == 200 and r.json()["accepted"] == 3
    assert new_reads() == 0  # the other app's write left this app's reads kept
    doc = next(iter(generate_sessions(1, days=1, seed=97, now=NOW - timedelta(minutes=5))))
    doc["sessionId"] = "inline-dashboard-1"
    r = client.post("/v2/ingest/sessions", json=[doc])
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert new_reads() > 0  # this app's write: read again
