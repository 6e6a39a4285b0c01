"""What the time limit for reads costs a small read (store/deadline.py).

Every read of an API or dashboard request runs under the server's time limit: on DuckDB it enters the
watchdog (a lock, a heap push and pop) around the query; on chDB the connection's max_execution_time is
set again when its whole seconds change. This times a small read of the 1M bench dataset's store (one
day, one country: a count and a distinct count, the small analytics request's shape) without a limit and
under one, in alternating rounds, and prints the medians and their ratio. The baseline is the same read
with no limit, measured in the same run.

Usage: python bench/time_limit_bench.py [--store bench/data/sessions-1000000-7-30/store.duckdb] [--rounds 7]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from common import DATA

from sessionscope.store.deadline import time_limit
from sessionscope.store.duckdb import DuckDBStore

SQL = (
    "SELECT count(*), count(DISTINCT user_key) FROM sessions WHERE app_id = ? AND uploaded_at >= ? "
    "AND uploaded_at < ? + INTERVAL 1 DAY AND device_country = ?"
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", type=Path, default=DATA / "sessions-1000000-7-30" / "store.duckdb")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store.duckdb"
        shutil.copy(args.store, copy)
        store = DuckDBStore(str(copy), read_only=True)
        app, day, country = store.query(
            "SELECT app_id, date_trunc('day', max(uploaded_at)), any_value(device_country) FROM sessions GROUP BY app_id LIMIT 1", []
        )[0]
        params = [app, day, day, country]

        def calls(limit: float) -> float:
            start = time.perf_counter()
            with time_limit(limit):
                for _ in range(args.calls):
                    store.query_arrow(SQL, params)
            return (time.perf_counter() - start) / args.calls * 1000

        calls(0)
        calls(60)  # warm
        plain, limited = [], []
        for _ in range(args.rounds):
            plain.append(calls(0))
            limited.append(calls(60))
        store.close()
    p, lim = statistics.median(plain), statistics.median(limited)
    print(f"small read, no limit: {p:.3f} ms; under a 60 s limit: {lim:.3f} ms ({lim / p:.3f}x, {1000 * (lim - p):+.0f} µs)")


if __name__ == "__main__":
    main()
