"""A store that cannot be written (disk full, read-only) answers a clean 503, corrupts nothing, and recovers.

Faults are real, not mocked:
- **disk full**: the running server's RLIMIT_FSIZE is lowered with prlimit(2), so every write past the limit
  fails with EFBIG, exactly as on a full file system; raising it again is "space came back".
- **read-only**: the data directory and the database file are made read-only (chmod) under a server started
  without CAP_DAC_OVERRIDE (as root, which ignores file modes, the server runs under `setpriv`).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sessionscope.demo import generate_sessions
from support.server import Creds, Server

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
ALL_TIME = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": "2000-01-01", "upper": "2099-12-31"},
}
ERROR_KEYS = {"status", "code", "message", "param", "path", "request_id"}


def docs(n: int, seed: int, prefix: str) -> list[dict]:
    out = list(generate_sessions(n, days=10, seed=seed, now=NOW))
    for i, d in enumerate(out):
        d["sessionId"] = f"{prefix}-{i}"
    return out


def assert_503(r: httpx.Response, *secrets: str) -> None:
    assert r.status_code == 503, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers.get("retry-after", "").isdigit()
    body = r.json()
    assert set(body) == {"success", "error"} and body["success"] is False
    err = body["error"]
    assert {"status", "code", "message"} <= set(err) <= ERROR_KEYS
    assert err["status"] == 503 and err["code"] == "store_unavailable" and len(err["message"]) > 10
    for leak in ("Traceback", "duckdb", ".wal", "File too large", "Permission denied", *secrets):
        assert leak not in r.text


def stored_ids(client: httpx.Client, creds: Creds) -> list[str]:
    """Every sessionId of the app, with repeats if the store had any."""
    ids: list[str] = []
    page = 1
    while True:
        r = client.get(
            "/v2/session",
            params={"filters": json.dumps([ALL_TIME]), "page": page, "page_size": 500},
            headers=creds.read_headers,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [x["sessionId"] for x in body["data"]]
        if body["pagination"]["next"] is None:
            return ids
        page += 1


def post(client: httpx.Client, creds: Creds, batch: list[dict]) -> httpx.Response:
    return client.post("/v2/ingest/sessions", json=batch, headers=creds.ingest_headers)


def put_video(client: httpx.Client, creds: Creds, sid: str) -> httpx.Response:
    return client.put(
        f"/v2/ingest/sessions/{sid}/video",
        content=os.urandom(64 * 1024),
        headers={**creds.ingest_headers, "Content-Type": "video/mp4"},
    )


def check_after_restart(server: Server, creds: Creds, expected: set[str]) -> None:
    """SIGKILL, start again: exactly the acknowledged sessions, each once, and the store takes writes."""
    server.stop(kill=True)
    server.extra_env.clear()
    server.wrapper = []
    server.start()
    with server.client() as client:
        ids = stored_ids(client, creds)
        assert len(ids) == len(set(ids)), "a session is stored twice"
        assert set(ids) == expected
        extra = docs(5, 99, "after-restart")
        assert post(client, creds, extra).json()["accepted"] == 5
        assert set(stored_ids(client, creds)) == expected | {d["sessionId"] for d in extra}
    server.stop()


def test_full_disk_answers_503_and_recovers(fresh_server: Server) -> None:
    server = fresh_server
    creds = server.create_app("full-disk")
    first, second = docs(300, 1, "first"), docs(300, 2, "second")
    server.start()
    assert server.proc is not None
    pid = server.proc.pid
    with server.client() as client:
        assert post(client, creds, first).json()["accepted"] == 300
        # from now on no file of the server can be written past its first 4 KiB: the disk is full
        wal = Path(server.store_url.removeprefix("duckdb:///") + ".wal")
        assert wal.stat().st_size > 4096
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
        try:
            for _ in range(3):  # and keep failing cleanly, not only the first time
                assert_503(post(client, creds, second), creds.ingest_key, creds.apikey)
            assert_503(put_video(client, creds, "first-0"), creds.ingest_key)
            # reads still work, and see nothing of the refused batch
            assert client.get("/healthz").status_code == 200
            assert set(stored_ids(client, creds)) == {d["sessionId"] for d in first}
        finally:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        # space is back: the same batch and the video go through without a restart
        r = post(client, creds, second)
        assert r.status_code == 200 and r.json()["accepted"] == 300, r.text
        assert put_video(client, creds, "first-0").status_code == 200
        assert sorted(stored_ids(client, creds)) == sorted(d["sessionId"] for d in first + second)
        metrics = client.get("/metrics").text
        assert 'status="503"' in metrics
    no_partial_video_files(server, creds)
    check_after_restart(server, creds, {d["sessionId"] for d in first + second})


def no_partial_video_files(server: Server, creds: Creds) -> None:
    folder = server.data_dir / "videos" / creds.appid
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".part")] if folder.exists() else []
    assert leftovers == [], leftovers


def can_drop_dac_override() -> bool:
    return os.geteuid() != 0 or shutil.which("setpriv") is not None


@pytest.mark.skipif(not can_drop_dac_override(), reason="root without setpriv: file modes cannot bind")
def test_read_only_store_answers_503_and_recovers(fresh_server: Server) -> None:
    server = fresh_server
    creds = server.create_app("read-only")  # the CLI closes the store: checkpointed, no WAL file open
    first, second = docs(200, 3, "first"), docs(200, 4, "second")
    if os.geteuid() == 0:
        # root ignores file modes; without CAP_DAC_OVERRIDE it obeys them like any user
        server.wrapper = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
    server.start()
    db = Path(server.store_url.removeprefix("duckdb:///"))
    wal = Path(f"{db}.wal")
    assert not wal.exists()
    modes = {p: p.stat().st_mode for p in (server.data_dir, db)}
    try:
        for p in modes:
            p.chmod(stat.S_IMODE(modes[p]) & ~0o222)
        with server.client() as client:
            for _ in range(3):
                assert_503(post(client, creds, first), creds.ingest_key, creds.apikey)
            # a video for a session not stored is refused by a read, before anything is written: 404 here too
            assert put_video(client, creds, "nothing-yet").status_code == 404
            assert stored_ids(client, creds) == []
            assert client.get("/healthz").status_code == 200
    finally:
        for p, mode in modes.items():
            p.chmod(stat.S_IMODE(mode))
    with server.client() as client:
        # writable again: no restart needed
        for batch in (first, second):
            r = post(client, creds, batch)
            assert r.status_code == 200 and r.json()["accepted"] == 200, r.text
        assert put_video(client, creds, "first-0").status_code == 200
        assert sorted(stored_ids(client, creds)) == sorted(d["sessionId"] for d in first + second)
    no_partial_video_files(server, creds)
    check_after_restart(server, creds, {d["sessionId"] for d in first + second})


@pytest.mark.skipif(not can_drop_dac_override(), reason="root without setpriv: file modes cannot bind")
def test_server_refuses_to_start_on_a_read_only_file(fresh_server: Server) -> None:
    """A store file the server cannot write: it exits at once with a one-line reason, the file intact."""
    server = fresh_server
    server.create_app("ro-start")
    db = Path(server.store_url.removeprefix("duckdb:///"))
    before = db.read_bytes()
    mode = db.stat().st_mode
    if os.geteuid() == 0:
        server.wrapper = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
    db.chmod(0o444)
    try:
        with pytest.raises(RuntimeError, match="server exited early") as info:
            server.start()
    finally:
        db.chmod(stat.S_IMODE(mode))
        server.stop()
    message = str(info.value)
    assert "error:" in message and "Traceback" not in message
    assert db.read_bytes() == before
