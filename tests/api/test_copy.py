"""`sessionscope copy`: a DuckDB store moved into chDB answers every request exactly as before."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sessionscope.demo import generate_sessions
from sessionscope.store.chdb import ChdbStore
from support.engines import store_url
from support.server import Server, cli, ingest

from .test_engines_agree import WINDOW, assert_same, requests

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


def _answers(server: Server, creds, calls) -> list:
    out = []
    with server.client() as client:
        for path, params in calls:
            query = {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in params.items()}
            r = client.get(path, params=query, headers=creds.read_headers)
            assert r.status_code == 200, r.text
            out.append(json.loads(r.text.replace(server.base_url, "BASE")))
    return out


def test_copy_duckdb_into_chdb_keeps_every_answer(tmp_path: Path) -> None:
    duck = Server(data_dir=tmp_path / "duck", store_url=store_url("duckdb", tmp_path / "duck"))
    duck.data_dir.mkdir()
    a, b = duck.create_app("copy-a"), duck.create_app("copy-b")
    duck.start()
    with duck.client() as client:
        ingest(client, a, list(generate_sessions(700, days=29, seed=81, now=NOW)), batch=250)
        ingest(client, b, list(generate_sessions(150, days=29, seed=82, now=NOW)))
        sid = client.get("/v2/session", params={"page_size": 1}, headers=a.read_headers).json()["data"][0]["sessionId"]
        put = client.put(
            f"/v2/ingest/sessions/{sid}/video", content=b"\x00\x00\x00\x18ftypmp42" + b"x" * 100,
            headers={**a.ingest_headers, "Content-Type": "video/mp4"},
        )
        assert put.status_code == 200, put.text
    calls = [c for c in requests() if c[0] == "/v2/session" or len(json.dumps(c[1])) % 3 == 0]
    calls.append(("/v2/session", {"filters": [WINDOW], "page_size": 500, "with_video": "false"}))
    before = {name: _answers(duck, creds, calls) for name, creds in (("a", a), ("b", b))}
    duck.stop()

    target = store_url("chdb", tmp_path / "ch")
    copy = ("copy", "--from", duck.store_url, "--to", target)
    result = cli(duck.env, *copy, check=False)
    assert result.returncode == 0, result.stderr
    assert "copied 2 apps, 850 sessions" in result.stdout, result.stdout
    # a second run is refused, naming what the target holds; --replace copies afresh: no duplicates
    refused = cli(duck.env, *copy, check=False)
    assert refused.returncode == 1 and refused.stdout == "", refused
    assert f"{a.appid} (copy-a): 700 sessions (the source: 700)" in refused.stderr, refused.stderr
    assert f"{b.appid} (copy-b): 150 sessions (the source: 150)" in refused.stderr, refused.stderr
    assert "more sessions than the source" not in refused.stderr and "--replace deletes" in refused.stderr, refused.stderr
    assert "did not finish" not in refused.stderr, refused.stderr
    # a copy stopped part way (here: some of app a's events never arrived) is said to be one
    stopped = ChdbStore(target.removeprefix("chdb://"))
    events = stopped.query("SELECT count() FROM events WHERE app_id = {a:String}", {"a": a.appid})[0][0]
    stopped.execute("DELETE FROM events WHERE app_id = {a:String} AND seq > 0", {"a": a.appid})
    left = stopped.query("SELECT count() FROM events WHERE app_id = {a:String}", {"a": a.appid})[0][0]
    stopped.close()
    assert 0 < left < events
    refused = cli(duck.env, *copy, check=False)
    assert refused.returncode == 1, refused
    assert (f"{a.appid} (copy-a): 700 sessions (the source: 700), newest uploaded" in refused.stderr
            and f"{left:,} events (the source: {events:,}); fewer rows than the source: a copy that did not finish"
            in refused.stderr), refused.stderr
    assert refused.stderr.count("did not finish") == 1, refused.stderr  # app b is whole
    result = cli(duck.env, *copy, "--replace", check=False)
    assert result.returncode == 0, result.stderr
    assert "copied 2 apps, 850 sessions" in result.stdout, result.stdout

    ch = Server(data_dir=duck.data_dir, store_url=target, port=duck.port)  # same data_dir: same videos and secret
    ch.start()
    try:
        for name, creds in (("a", a), ("b", b)):  # the keys issued on DuckDB work on chDB
            assert_same(before[name], _answers(ch, creds, calls))
        with ch.client() as client:
            r = client.get("/v2/session", params={"page_size": 500, "with_video": "true"}, headers=a.read_headers)
            videos = [s["sessionId"] for s in r.json()["data"] if s["video"].startswith(ch.base_url)]
            assert videos == [sid]
            assert client.get(r.json()["data"][0]["video"].replace(ch.base_url, "")).status_code == 200
            # the new server takes writes: a copy run now would delete them, and says so
            ingest(client, a, list(generate_sessions(3, days=1, seed=83, now=NOW)))
    finally:
        ch.stop()
    refused = cli(duck.env, *copy, check=False)
    assert refused.returncode == 1, refused
    assert f"{a.appid} (copy-a): 703 sessions (the source: 700)" in refused.stderr, refused.stderr
    assert "3 more sessions than the source: the target took sessions since" in refused.stderr, refused.stderr
    assert f"{b.appid} (copy-b): 150 sessions (the source: 150), newest uploaded" in refused.stderr, refused.stderr


def test_copy_refuses_a_duckdb_target(tmp_path: Path) -> None:
    env = Server(data_dir=tmp_path, store_url=store_url("duckdb", tmp_path)).env
    cli(env, "apps", "create", "x", "--json")
    result = cli(env, "copy", "--from", store_url("duckdb", tmp_path), "--to", f"duckdb:///{tmp_path / 'b.duckdb'}", check=False)
    assert result.returncode == 1 and "must be a ClickHouse store" in result.stderr
    assert not (tmp_path / "b.duckdb").exists()  # refused before anything was created
