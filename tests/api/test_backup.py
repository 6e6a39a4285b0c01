"""Backup and restore of the embedded store (docs/operations.md): a restored copy answers exactly as the
original did at the moment of the backup.

- offline: stop the server (it checkpoints on SIGTERM), copy the data directory, start a server on the copy;
- online: freeze the running server (SIGSTOP, as `fsfreeze` or a file-system snapshot would), copy the data
  directory, thaw it (SIGCONT). The copy is crash-consistent, i.e. what a `kill -9` at that moment leaves, which
  the crash tests prove loses no acknowledged session; writes after the thaw are not in it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from sessionscope.demo import generate_sessions
from support.server import Creds, Server, ingest

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
PUBLIC_URL = "http://sessionscope.example"  # the same on both servers, so links compare equal
WINDOW = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": (NOW - timedelta(days=21)).strftime("%Y-%m-%d"), "upper": NOW.strftime("%Y-%m-%d")},
}
VIDEO = os.urandom(20_000)


def answers(server: Server, creds: Creds) -> dict:
    """A fixed set of read requests and their answers (signed video links replaced by the video's bytes)."""
    out: dict = {}
    with httpx.Client(base_url=server.base_url, timeout=60, headers=creds.read_headers) as client:
        page = 1
        while True:
            r = client.get("/v2/session", params={"filters": json.dumps([WINDOW]), "page": page,
                                                  "page_size": 200, "with_video": "true"})
            assert r.status_code == 200, r.text
            body = r.json()
            for row in body["data"]:
                if row["video"].startswith("http"):
                    link = row["video"].replace(PUBLIC_URL, server.base_url)
                    row["video"] = client.get(link).content
            out[f"list-{page}"] = body
            if body["pagination"]["next"] is None:
                break
            page += 1
        for name, params in {
            "totals": {},
            "by-model": {"group_by": [{"attribute": "device_model", "max_group_number": 10}]},
            "by-day": {"group_by": [{"attribute": "session_uploadedon_day"}]},
            "by-country-and-platform": {"group_by": [{"attribute": "device_country"}, {"attribute": "device_platform"}],
                                        "aggregation": [{"attribute": "session_duration", "operator": "p95"}]},
        }.items():
            q = {k: json.dumps(v) for k, v in params.items()} | {"filters": json.dumps([WINDOW])}
            r = client.get("/v2/session/analytics", params=q)
            assert r.status_code == 200, r.text
            out[name] = r.json()
    return out


def server_on(data_dir: Path) -> Server:
    s = Server(data_dir=data_dir, store_url=f"duckdb:///{data_dir / 'sessions.duckdb'}")
    s.extra_env["SESSIONSCOPE_PUBLIC_URL"] = PUBLIC_URL
    return s


def load(server: Server, creds: Creds, n: int, seed: int) -> list[dict]:
    docs = list(generate_sessions(n, days=20, seed=seed, now=NOW))
    for d in docs:
        d["sessionId"] = f"s{seed}-{d['sessionId']}"
    with server.client() as client:
        for body in ingest(client, creds, docs, batch=500):
            assert body["rejected"] == []
    return docs


def copy_data_dir(src: Path, dst: Path) -> None:
    """What an operator copies: the store file, its WAL if any, the videos, the signing secret."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("server-*.log"))


def test_offline_backup_restores_identically(tmp_path: Path) -> None:
    original = server_on(tmp_path / "live")
    original.data_dir.mkdir()
    creds = original.create_app("backup")
    original.start()
    docs = load(original, creds, 800, seed=1)
    with original.client() as client:
        r = client.put(f"/v2/ingest/sessions/{docs[0]['sessionId']}/video", content=VIDEO,
                       headers={**creds.ingest_headers, "Content-Type": "video/mp4"})
        assert r.status_code == 200, r.text
    expected = answers(original, creds)
    original.stop()  # SIGTERM: the store is checkpointed and closed
    copy_data_dir(original.data_dir, tmp_path / "restored")
    original.data_dir.rename(tmp_path / "gone")  # restored elsewhere: nothing may be read from the old place

    restored = server_on(tmp_path / "restored")
    restored.start()
    try:
        assert answers(restored, creds) == expected
        assert any(isinstance(row["video"], bytes) and row["video"] == VIDEO
                   for page in (v for k, v in expected.items() if k.startswith("list-")) for row in page["data"])
    finally:
        restored.stop()


class Writer:
    """Posts batches of 25 sessions marked by their batch (app_version) back to back, until told to stop."""

    def __init__(self, server: Server, creds: Creds) -> None:
        self.server, self.creds = server, creds
        self.acked: list[str] = []
        self.sent: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.pool = list(generate_sessions(25, days=5, seed=9, now=NOW))

    def run(self) -> None:
        with httpx.Client(base_url=self.server.base_url, timeout=60) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                marker = f"w-{n}"
                docs = [{**d, "sessionId": f"{marker}-{i}", "device": {**d["device"], "appVersion": marker}}
                        for i, d in enumerate(self.pool)]
                self.sent.append(marker)
                r = client.post("/v2/ingest/sessions", json=docs, headers=self.creds.ingest_headers)
                assert r.status_code == 200 and r.json()["accepted"] == 25, r.text
                self.acked.append(marker)


def test_online_backup_is_a_consistent_point_in_time(tmp_path: Path) -> None:
    original = server_on(tmp_path / "live")
    original.data_dir.mkdir()
    creds = original.create_app("backup")
    busy = original.create_app("busy")  # written to while the backup is taken
    original.start()
    writer = Writer(original, busy)
    try:
        load(original, creds, 600, seed=2)
        expected = answers(original, creds)
        writer.thread.start()
        time.sleep(1.0)
        assert original.proc is not None
        os.kill(original.proc.pid, signal.SIGSTOP)  # freeze, copy, thaw
        try:
            time.sleep(0.2)  # answers already on the wire are counted as acknowledged before the freeze
            acked_before = list(writer.acked)
            copy_data_dir(original.data_dir, tmp_path / "restored")
        finally:
            os.kill(original.proc.pid, signal.SIGCONT)
        later = load(original, creds, 100, seed=3)  # after the backup: not in it
        assert answers(original, creds) != expected
    finally:
        writer.stop.set()
        writer.thread.join(30)
        original.stop()
    assert len(acked_before) >= 2

    restored = server_on(tmp_path / "restored")
    restored.start()
    try:
        assert answers(restored, creds) == expected
        with restored.client() as client:
            flt = [WINDOW, {"attribute": "session_id", "operator": "in", "value": [d["sessionId"] for d in later]}]
            r = client.get("/v2/session", params={"filters": json.dumps(flt)}, headers=creds.read_headers)
            assert r.json()["data"] == []
            # the busy app: every batch acknowledged before the freeze, whole; any other batch whole or absent
            r = client.get(
                "/v2/session/analytics",
                params={"filters": json.dumps([WINDOW]), "page_size": 500,
                        "group_by": json.dumps([{"attribute": "app_version", "max_group_number": 1000}])},
                headers=busy.read_headers,
            )
            counts = {row["app_version"]: row["session_count"] for row in r.json()["data"]}
            assert set(acked_before) <= set(counts) <= set(writer.sent)
            assert set(counts.values()) == {25}
            # the restored store takes writes
            assert client.post("/v2/ingest/sessions", json=later[:5], headers=creds.ingest_headers).json()["accepted"] == 5
    finally:
        restored.stop()
