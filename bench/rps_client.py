"""Load generator for bench/run.py: N keep-alive clients send one GET for S seconds; prints JSON figures.

Runs as its own process so the clients do not share the server's GIL.
Usage: python bench/rps_client.py PORT URL --clients 32 --seconds 10 --header k=v ...
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("url")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--header", action="append", default=[])
    args = ap.parse_args()
    headers = dict(h.split("=", 1) for h in args.header)
    latencies: list[list[float]] = [[] for _ in range(args.clients)]
    errors = [0] * args.clients
    start = time.perf_counter()
    deadline = start + args.seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        while (t := time.perf_counter()) < deadline:
            conn.request("GET", args.url, headers=headers)
            r = conn.getresponse()
            r.read()
            latencies[i].append(time.perf_counter() - t)
            if r.status != 200:
                errors[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - start
    flat = sorted(x for xs in latencies for x in xs)
    print(json.dumps({
        "clients": args.clients, "requests": len(flat), "seconds": elapsed, "per_second": len(flat) / elapsed,
        "errors": sum(errors), "p50_ms": statistics.median(flat) * 1000,
        "p95_ms": flat[int(0.95 * (len(flat) - 1))] * 1000,
    }))


if __name__ == "__main__":
    main()
