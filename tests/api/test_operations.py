"""Operations (docs/operations.md): JSON request logs with request ids, Prometheus metrics, no key in any log."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from sessionscope.demo import generate_sessions
from sessionscope.ingest import handoff
from support.server import Server, ingest

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
# the metric names docs/operations.md documents
DOCUMENTED_METRICS = {
    "sessionscope_http_requests_total",
    "sessionscope_http_request_seconds_bucket",
    "sessionscope_http_request_seconds_count",
    "sessionscope_http_request_seconds_sum",
    "sessionscope_ingested_sessions_total",
}


def test_json_logs_metrics_and_no_keys(fresh_server: Server) -> None:
    server = fresh_server
    server.extra_env["SESSIONSCOPE_LOG_FORMAT"] = "json"
    creds = server.create_app("ops")
    server.start()
    docs = list(generate_sessions(30, days=3, seed=4, now=NOW))
    with server.client() as client:
        r = client.post("/v2/ingest/sessions", json=docs, headers={**creds.ingest_headers, "X-Request-ID": "ops-ingest-1"})
        assert r.status_code == 200 and r.headers["x-request-id"] == "ops-ingest-1"
        # keys in the query string, a header and a body: none may reach the log
        r = client.get("/v2/session", params={"appid": creds.appid, "apikey": creds.apikey, "page_size": 3},
                       headers={"X-Request-ID": "ops-list-1"})
        assert r.status_code == 200
        r = client.post("/v2/session", json={"appid": creds.appid, "apikey": creds.apikey, "page_size": 3})
        assert r.status_code == 200
        generated_rid = r.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated_rid)
        r = client.get("/v2/session", params={"appid": creds.appid, "apikey": creds.apikey + "x"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        r = client.get("/v2/session", params={"page": "zero"}, headers=creds.read_headers)
        assert r.status_code == 400
        metrics = client.get("/metrics")
    server.stop()

    # every line of the log is a JSON object
    lines = [line for line in server.log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert all({"ts", "level", "logger", "message"} <= set(rec) for rec in records)
    requests = {rec["request_id"]: rec for rec in records if rec.get("logger") == "sessionscope.http" and "route" in rec}
    ingest = requests["ops-ingest-1"]
    assert ingest["method"] == "POST" and ingest["route"] == "/v2/ingest/sessions" and ingest["status"] == 200
    assert ingest["app"] == creds.appid and isinstance(ingest["duration_ms"], float)
    assert requests["ops-list-1"]["status"] == 200 and requests["ops-list-1"]["route"] == "/v2/session"
    assert requests[generated_rid]["method"] == "POST"
    statuses = sorted(rec["status"] for rec in requests.values())
    assert 401 in statuses and 400 in statuses
    assert all(rec["app"] is None for rec in requests.values() if rec["status"] == 401)
    text = server.log_path.read_text()
    for secret in (creds.apikey, creds.ingest_key):
        assert secret not in text

    # /metrics: Prometheus text with the documented names
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    names = {m.group(1) for m in re.finditer(r"^([a-z_]+)[{ ]", metrics.text, re.M)}
    assert DOCUMENTED_METRICS <= names, DOCUMENTED_METRICS - names
    assert re.search(r'sessionscope_http_requests_total\{method="POST",route="/v2/ingest/sessions",status="200"\} 1', metrics.text)
    assert re.search(r"^sessionscope_ingested_sessions_total 30$", metrics.text, re.M)
    assert creds.apikey not in metrics.text and creds.appid not in metrics.text


def test_a_stopped_server_leaves_no_hand_off_files(fresh_server: Server) -> None:
    """Large ingest bodies reach the validation worker through a directory in shared memory (ingest.handoff);
    a server stopped with SIGTERM removes it."""
    creds = fresh_server.create_app("handoff")
    fresh_server.start()
    pid = fresh_server.proc.pid  # type: ignore[union-attr]
    docs = list(generate_sessions(1_000, seed=4, now=datetime.now(UTC)))
    assert len(orjson.dumps(docs)) > handoff.MIN_BYTES
    with fresh_server.client() as client:
        (body,) = ingest(client, creds, docs, batch=1_000)
        assert body["accepted"] == 1_000
        mine = list(handoff.base_directory().glob(f"sessionscope-ingest-{pid}-*"))
        assert len(mine) == 1 and list(mine[0].iterdir()) == []  # made, and each file taken
    fresh_server.stop()
    assert not mine[0].exists()
    fresh_server.start()  # and what was acknowledged is there
    with fresh_server.client() as client:
        window = {"attribute": "date_range", "operator": "between_dates",
                  "value": {"lower": "2000-01-01T00:00:00Z", "upper": "2100-01-01T00:00:00Z"}}
        r = client.get("/v2/session/analytics", params={"filters": json.dumps([window])},
                       headers=creds.read_headers)
        assert r.status_code == 200 and r.json()["data"][0]["session_count"] == 1_000


def test_ctrl_c_stops_the_server_and_its_workers_quietly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C at the terminal (`make run`) sends SIGINT to the whole foreground process group: the server and
    the ingest workers it spawned. The workers printed a KeyboardInterrupt traceback each; the server stops
    them itself."""
    server = Server(data_dir=tmp_path, store_url=f"duckdb:///{tmp_path / 's.duckdb'}", own_group=True)
    creds = server.create_app("ctrl-c")
    server.start()
    with server.client() as client:
        (body,) = ingest(client, creds, list(generate_sessions(50, seed=3, now=datetime.now(UTC))), batch=50)
        assert body["accepted"] == 50
    assert server.proc is not None
    os.killpg(server.proc.pid, signal.SIGINT)
    assert server.proc.wait(timeout=30) in (0, 130)  # 130: ended by SIGINT, as uvicorn reports it
    server.proc = None
    time.sleep(1)  # the workers' last words, if any, after the server's
    log = server.log_path.read_text() if server.log_path else ""
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log


def test_a_clean_stop_folds_the_wal_into_the_store_file(fresh_server: Server) -> None:
    """SIGTERM (systemctl stop): the WAL is checkpointed into the store file, which then holds every
    acknowledged session by itself (operations.md's file table: no .wal after a clean stop)."""
    if not fresh_server.store_url.startswith("duckdb"):
        pytest.skip("the WAL is DuckDB's")
    creds = fresh_server.create_app("wal")
    fresh_server.start()
    with fresh_server.client() as client:
        (body,) = ingest(client, creds, list(generate_sessions(300, seed=9, now=datetime.now(UTC))), batch=300)
        assert body["accepted"] == 300
    path = fresh_server.store_url.split("://", 1)[1]
    assert os.path.exists(path + ".wal")  # the batch is in the WAL while the server runs
    fresh_server.stop()
    assert not os.path.exists(path + ".wal")
    import duckdb

    with duckdb.connect(path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 300
