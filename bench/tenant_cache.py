"""Kept results while other apps ingest: one app's dashboard requests beside another app's uploads.

A server holds two apps of `--sessions` demo sessions each. 32 clients (`rps_client.py`, a process of its
own) each repeat a small analytics request of app B for `--seconds`: the suite's (one day, one country),
each client for another day of the window, as the widgets and viewers of a dashboard would ask:
  idle       nothing else runs: the baseline of this run (measured first and last, the mean taken)
  other app  meanwhile 4 clients post app A's sessions, 100 a batch: A's commits leave B's kept answers
  same app   meanwhile the same posts go to app B itself: each commit discards B's kept answers, as every
             commit discarded every app's before kept results were per app (store/results.py)
and, for scale, the same request with the result cache off. It prints requests/s and the ratio of each to
idle, and saves bench/results/tenant_cache.json. The posting clients are threads of this process; they and
the server's validation and writes take CPU from the readers on 2 cores, so "other app" is set beside
"same app", which pays the same, to show what keeping results per app is worth.

Usage: python bench/tenant_cache.py [--sessions 50000] [--seconds 8]
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import orjson
from common import DATA, NOW, save
from run import api_url, latency_client

from support.server import Server


def build(n: int) -> tuple[Any, list[Any]]:
    """A fresh store with apps A and B of n demo sessions each; their credentials."""
    from sessionscope import apps
    from sessionscope.demo import generate_sessions
    from sessionscope.loader import load_documents
    from sessionscope.settings import Settings
    from sessionscope.store import open_store

    folder = DATA / "tenant-cache"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    store = open_store(f"duckdb:///{folder / 'store.duckdb'}")
    creds = []
    for k, name in enumerate(("A", "B")):
        c = apps.create_app(store, name)
        docs = generate_sessions(n, days=30, seed=70 + k, now=NOW)
        load_documents(store, Settings(data_dir=folder), c.appid, docs, total=n, batch_size=20_000,
                       label=f"app {name}: {n:,} sessions")
        creds.append(c)
    store.close()
    return folder, creds


@contextmanager
def posting(port: int, creds: Any, docs: list[dict], clients: int = 4, size: int = 100) -> Iterator[dict]:
    """While the block runs, `clients` threads post `docs` to the app, `size` a batch, over and over (each
    pass re-sends the same ids: a replacement is a full write too). Yields counts: batches posted."""
    stop, done = threading.Event(), {"batches": 0}
    bodies = [orjson.dumps(docs[i:i + size]) for i in range(0, len(docs), size)]
    headers = {"appid": creds.appid, "X-Ingest-Key": creds.ingest_key, "content-type": "application/json"}

    def post(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        i = k
        while not stop.is_set():
            conn.request("POST", "/v2/ingest/sessions", body=bodies[i % len(bodies)], headers=headers)
            r = conn.getresponse()
            answer = orjson.loads(r.read())
            assert r.status == 200 and answer["accepted"] == size, answer
            done["batches"] += 1
            i += clients

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(post, k) for k in range(clients)]
        try:
            yield done
        finally:
            stop.set()
            for f in futures:
                f.result()


def small_request(day: date) -> dict:
    """The suite's small analytics request (bench/run.py SMALL) for one day."""
    return {"filters": [{"attribute": "date_range", "operator": "between_dates",
                         "value": {"lower": f"{day}T00:00:00Z", "upper": f"{day}T23:59:59Z"}},
                        {"attribute": "device_country", "operator": "equal", "value": "USA"}]}


def main() -> None:
    from sessionscope.demo import generate_sessions

    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=50_000, help="demo sessions of each app")
    ap.add_argument("--seconds", type=float, default=8)
    args = ap.parse_args()
    folder, (a, b) = build(args.sessions)
    uploads = list(generate_sessions(4_000, days=1, seed=99, now=NOW - timedelta(hours=1)))
    urls = [api_url("/v2/session/analytics", small_request(date(2026, 10, 1) + timedelta(days=k))) for k in range(32)]
    out: dict[str, Any] = {"sessions_per_app": args.sessions, "seconds": args.seconds, "clients": 32}

    def measure(server: Server, phase: str) -> dict:
        got = latency_client(server.port, urls, {"appid": b.appid, "apikey": b.apikey}, 32, args.seconds)
        print(f"{phase:28s} {got['per_second']:9,.0f} requests/s  p50 {got['p50_ms']:6.1f} ms  "
              f"p95 {got['p95_ms']:6.1f} ms", flush=True)
        return {"per_second": got["per_second"], "p50_ms": got["p50_ms"], "p95_ms": got["p95_ms"]}

    server = Server(data_dir=folder, store_url=f"duckdb:///{folder / 'store.duckdb'}")
    server.start()
    try:
        out["idle_before"] = measure(server, "idle")
        for phase, app in (("other_app_ingesting", a), ("same_app_ingesting", b)):
            with posting(server.port, app, uploads) as posted:
                out[phase] = measure(server, phase.replace("_", " "))
            out[phase]["sessions_posted_per_second"] = posted["batches"] * 100 / args.seconds
            print(f"{'':28s} meanwhile {out[phase]['sessions_posted_per_second']:,.0f} sessions/s posted", flush=True)
        out["idle_after"] = measure(server, "idle again")
    finally:
        server.stop()
    uncached = Server(data_dir=folder, store_url=f"duckdb:///{folder / 'store.duckdb'}",
                      extra_env={"SESSIONSCOPE_RESULT_CACHE": "0"})
    uncached.start()
    try:
        out["idle_uncached"] = measure(uncached, "idle, result cache off")
    finally:
        uncached.stop()

    idle = statistics.mean([out["idle_before"]["per_second"], out["idle_after"]["per_second"]])
    for phase in ("other_app_ingesting", "same_app_ingesting", "idle_uncached"):
        out[phase]["over_idle"] = out[phase]["per_second"] / idle
        print(f"{phase:28s} {out[phase]['over_idle']:.2f}x idle", flush=True)
    save("tenant_cache", out)


if __name__ == "__main__":
    main()
