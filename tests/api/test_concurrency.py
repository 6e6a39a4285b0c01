"""Readers (list and analytics) while ingestion runs, many clients at once: no errors and no torn results.

A bounded run of the load generator that bench/load_bench.py uses for its figures (tests/support/load.py):
24 clients, each with its own connection, for a few seconds, mixing list pages, analytics, and ingest batches
(some of them re-sends, which replace sessions). Every batch marks exactly BATCH sessions; a reader must see
each marker 0 or BATCH times, never a part of a batch.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sessionscope.demo import generate_sessions
from support.load import ALL_TIME, BATCH, MARKER_FILTER, run_scenario
from support.server import Server, ingest

CLIENTS = 24
SECONDS = 8.0


def test_readers_and_writers_at_once(fresh_server: Server) -> None:
    server = fresh_server
    creds = server.create_app("concurrency")
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    pool = list(generate_sessions(500, days=20, seed=8, now=now))
    server.start()
    with server.client() as client:
        ingest(client, creds, list(generate_sessions(2_000, days=20, seed=9, now=now)), batch=1_000)

    result = asyncio.run(run_scenario(server, creds, pool, CLIENTS, SECONDS, seed=1))
    print(
        f"\n{result['requests']} requests from {CLIENTS} clients in {result['seconds']} s: "
        f"{result['throughput_rps']} req/s, p50 {result['latency']['all']['p50_ms']} ms, "
        f"p99 {result['latency']['all']['p99_ms']} ms, {result['torn_checks']} torn-read checks"
    )
    assert result["errors"] == 0, result["error_examples"]
    assert result["torn_results"] == 0, result["torn_examples"]
    assert result["statuses"].keys() == {200}, result["statuses"]
    lat = result["latency"]
    for kind in ("list", "list_marker", "analytics", "analytics_marker", "ingest"):
        assert lat[kind]["n"] > 0, (kind, lat)
    assert result["torn_checks"] >= 20

    # afterwards, every batch that was sent is there whole: each marker exactly BATCH sessions
    with server.client() as client:
        r = client.get(
            "/v2/session/analytics",
            params={
                "filters": json.dumps([ALL_TIME, MARKER_FILTER]),
                "group_by": json.dumps([{"attribute": "app_version", "max_group_number": 1000}]),
                "page_size": 500,
            },
            headers=creds.read_headers,
        )
        assert r.status_code == 200, r.text
        rows = r.json()["data"]
    assert len(rows) == result["batches"] and lat["ingest"]["n"] == result["batches"] + result["resends"]
    assert all(row["session_count"] == BATCH for row in rows), [row for row in rows if row["session_count"] != BATCH]
