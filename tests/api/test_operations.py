"""Operations (docs/operations.md): JSON request logs with request ids, Prometheus metrics, no key in any log."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from sessionscope.demo import generate_sessions
from support.server import Server

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
