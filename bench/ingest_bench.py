"""Ingestion throughput: HTTP batches into a server holding N sessions, and `sessionscope import`.

Baseline for the HTTP figure: the same documents written in-process through the same normalise+write
path (no HTTP), measured in the same run, so the ratio shows the HTTP cost.
Usage: python bench/ingest_bench.py [--sessions 1000000] [--docs 200000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import orjson
from common import ROOT, copy_store, dataset, rss_mb, save

from support.server import Server


def main() -> None:
    from sessionscope.demo import generate_sessions
    from sessionscope.loader import load_documents
    from sessionscope.settings import Settings
    from sessionscope.store import open_store

    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=1_000_000)
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=1_000)
    ap.add_argument("--clients", type=int, default=2)
    args = ap.parse_args()

    path, meta = dataset(args.sessions)
    docs = list(generate_sessions(args.docs, days=30, seed=991, now=datetime.now(UTC).replace(microsecond=0)))
    # SDKs upload a session when it ends, so a server receives them roughly in upload-time order
    docs.sort(key=lambda d: d["property"]["uploadedServerTime"])
    bodies = [orjson.dumps(docs[i : i + args.batch]) for i in range(0, len(docs), args.batch)]
    result: dict = {"sessions_in_store": meta["n"], "docs": len(docs), "batch": args.batch}

    # 1. in-process baseline: same normalise + write, no HTTP
    inproc = copy_store(path, "inproc")
    store = open_store(f"duckdb:///{inproc}")
    stats = load_documents(store, Settings(data_dir=inproc.parent), meta["appid"], docs, batch_size=args.batch, quiet=True)
    store.close()
    result["in_process_per_s"] = stats.per_second
    print(f"in-process normalise+write: {stats.per_second:,.0f} sessions/s")

    # 2. HTTP: a real server process, batches of --batch from --clients concurrent clients
    api_copy = copy_store(path, "http")
    server = Server(data_dir=api_copy.parent, store_url=f"duckdb:///{api_copy}")
    server.start()
    headers = {"appid": meta["appid"], "X-Ingest-Key": meta["ingest_key"], "content-type": "application/json"}
    try:
        with httpx.Client(base_url=server.base_url, timeout=120) as client:
            def post(body: bytes) -> int:
                r = client.post("/v2/ingest/sessions", content=body, headers=headers)
                assert r.status_code == 200, r.text
                return r.json()["accepted"]

            t = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                accepted = sum(pool.map(post, bodies))
            elapsed = time.perf_counter() - t
        peak = rss_mb(server.proc.pid)  # type: ignore[union-attr]
    finally:
        server.stop()
    assert accepted == len(docs)
    result["http_per_s"] = accepted / elapsed
    result["http_vs_in_process"] = result["http_per_s"] / result["in_process_per_s"]
    result["server_peak_rss_mib"] = peak
    print(f"HTTP ingest ({args.clients} clients, batches of {args.batch}): {accepted / elapsed:,.0f} sessions/s "
          f"({result['http_vs_in_process']:.2f}x in-process), server peak RSS {peak:.0f} MiB")

    # 3. sessionscope import of an NDJSON.gz file
    file = path.parent / f"import-{len(docs)}.ndjson.gz"
    with gzip.open(file, "wb", compresslevel=1) as out:
        for d in docs:
            out.write(orjson.dumps(d) + b"\n")
    imp = copy_store(path, "import")
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sessionscope.cli", "import", str(file), "--app", meta["appid"], "--store", f"duckdb:///{imp}"],
        capture_output=True, text=True, cwd=ROOT,
    )
    elapsed = time.perf_counter() - t
    assert proc.returncode == 0, proc.stderr + proc.stdout
    result["import_per_s_wall"] = len(docs) / elapsed
    print(f"sessionscope import: {len(docs) / elapsed:,.0f} sessions/s wall clock (incl. start-up); CLI said: {proc.stdout.strip().splitlines()[-1]}")
    save("ingest", result)


if __name__ == "__main__":
    main()
