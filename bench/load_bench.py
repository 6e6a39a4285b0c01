"""Load and concurrency: many clients reading (list + analytics) while others ingest, on loopback.

A real `sessionscope serve` on a DuckDB file preloaded with --preload sessions. For each client count in
--clients (default 1 and 32), an asyncio load generator (one httpx connection per client) runs for --seconds
a weighted mix: list pages with filters, analytics (totals, group_by, time buckets) and ingest batches.

Torn-read check: every ingest batch carries a marker in `device.appVersion` (`lb-<client>-<n>`) on exactly
BATCH sessions, and clients sometimes re-send an earlier batch of theirs (a replace). Readers ask for
marker groups (analytics group_by app_version) and marker lists, and assert each marker counts 0 or BATCH,
never a part: a reader never sees a half-applied batch, nor a replace half done.

Figures per client count: requests, errors (any non-2xx but 429), torn results, throughput, p50/p99 latency
per kind and overall. Saves bench/results/load.json.

Usage: python bench/load_bench.py [--clients 1,32] [--seconds 20] [--preload 20000] [--rate-limit N]
`--rate-limit N` also runs the highest client count with SESSIONSCOPE_RATE_LIMIT_PER_SECOND=N (when the
server supports rate limits) and counts 429s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from sessionscope.demo import generate_sessions  # noqa: E402
from support.load import BATCH, MIX, run_scenario  # noqa: E402
from support.server import Server  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", default="1,32")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--preload", type=int, default=20_000)
    ap.add_argument("--rate-limit", type=int, default=0, help="also run with this per-app requests/s limit")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "load.json"))
    args = ap.parse_args()
    counts = [int(x) for x in args.clients.split(",")]

    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    pool = list(generate_sessions(2_000, days=25, seed=77, now=now))
    tmp = Path(tempfile.mkdtemp(prefix="load-bench-"))
    server = Server(data_dir=tmp, store_url=f"duckdb:///{tmp / 'load.duckdb'}")
    creds = server.create_app("load")
    server.start()
    t = time.perf_counter()
    with server.client() as client:
        docs = generate_sessions(args.preload, days=25, seed=78, now=now)
        batch: list[dict] = []
        for d in docs:
            batch.append(d)
            if len(batch) == 5_000:
                client.post("/v2/ingest/sessions", json=batch, headers=creds.ingest_headers).raise_for_status()
                batch = []
        if batch:
            client.post("/v2/ingest/sessions", json=batch, headers=creds.ingest_headers).raise_for_status()
    print(f"preloaded {args.preload:,} sessions in {time.perf_counter() - t:.1f}s")

    result: dict = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{__import__('os').cpu_count()} cores, loopback, generator and server on the same machine",
        "preloaded_sessions": args.preload,
        "batch_sessions": BATCH,
        "mix": MIX,
        "scenarios": [],
    }
    ok = True
    try:
        for i, c in enumerate(counts):
            r = asyncio.run(run_scenario(server, creds, pool, c, args.seconds, seed=i + 1))
            r["name"] = f"{c} client{'s' if c > 1 else ''}"
            result["scenarios"].append(r)
            ok &= r["errors"] == 0 and r["torn_results"] == 0
            print(json.dumps(r, indent=2))
    finally:
        server.stop()
    if args.rate_limit:
        if not (ROOT / "src" / "sessionscope" / "api" / "ratelimit.py").exists():
            print("rate limits are not built yet: skipping the rate-limited scenario")
        else:
            server.extra_env["SESSIONSCOPE_RATE_LIMIT_PER_SECOND"] = str(args.rate_limit)
            server.start()
            try:
                c = max(counts)
                r = asyncio.run(run_scenario(server, creds, pool, c, args.seconds, seed=len(counts) + 1))
                r["name"] = f"{c} clients, rate limit {args.rate_limit}/s per app"
                result["scenarios"].append(r)
                ok &= r["errors"] == 0 and r["torn_results"] == 0 and r["429_without_retry_after"] == 0
                print(json.dumps(r, indent=2))
            finally:
                server.stop()
    result["ok"] = ok
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
