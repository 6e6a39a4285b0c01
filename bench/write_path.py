"""The embedded store's write path, statement by statement, on a private copy of a bench dataset.

Writes batches of 1,000 fresh demo sessions (in upload order, as SDKs send them) through
`DuckDBStore.write_sessions`, and prints the median time per batch and where it goes. The baseline, timed in
the same run on the same store: the per-user summary of each batch's users computed from `sessions`, the
scan every write made before the `user_state` table.

Usage: python bench/write_path.py [--size 1000000] [--batch 1000] [--batches 12] [--live] [--resend]
(the first write starts building the store's set of known session ids in a thread; it is reported on its
own, with the time until the set is in place, and the other writes are timed after that)
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from analytics_bench import replicated  # noqa: E402
from common import copy_store, save  # noqa: E402

from sessionscope.demo import generate_sessions  # noqa: E402
from sessionscope.ingest import Limits, normalise_batch  # noqa: E402
from sessionscope.store import numbering  # noqa: E402
from sessionscope.store.duckdb import DuckDBStore  # noqa: E402

BATCH = 1_000
# what a write computed for its users before user_state: a scan of all the app's sessions
SCAN = (
    f"SELECT uxcamuserid, count(*), max(started_at), {', '.join(f'any_value({c})' for c in numbering.FIRST_COLUMNS)} "
    "FROM sessions WHERE app_id = $1 AND uxcamuserid IN (SELECT unnest($2::VARCHAR[])) GROUP BY uxcamuserid"
)


class _Timed:
    """A cursor that adds each statement's time (execute and fetch) to a counter."""

    def __init__(self, cur: Any, times: collections.Counter) -> None:
        self.cur, self.times, self.key = cur, times, ""

    def execute(self, sql: str, *args: Any) -> _Timed:
        self.key = " ".join(sql.split())[:72]
        t = time.perf_counter()
        self.cur.execute(sql, *args)
        self.times[self.key] += time.perf_counter() - t
        return self

    def _fetch(self, name: str) -> Any:
        t = time.perf_counter()
        out = getattr(self.cur, name)()
        self.times[self.key] += time.perf_counter() - t
        return out

    def fetchall(self) -> Any:
        return self._fetch("fetchall")

    def fetchnumpy(self) -> Any:
        return self._fetch("fetchnumpy")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cur, name)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=BATCH, help="sessions per write (an import writes 30,000)")
    ap.add_argument("--batches", type=int, default=12)
    ap.add_argument("--live", action="store_true",
                    help="sessions uploaded in the day after the dataset's 30 days, as a live server receives them "
                         "(default: spread over those 30 days, so batches reach back into the middle of the table)")
    ap.add_argument("--resend", action="store_true",
                    help="write each batch a second time (a client's retry) and report those writes too")
    args = ap.parse_args()
    path, meta = replicated(args.size)
    store = DuckDBStore(str(copy_store(path, "write-path")))
    app = meta["appid"]
    now = datetime(2026, 11, 2, 12) if args.live else datetime(2026, 11, 1, 12)
    docs = sorted(generate_sessions(args.batch * args.batches, days=1 if args.live else 30, seed=5, now=now.replace(tzinfo=UTC)),
                  key=lambda d: d["property"]["uploadedServerTime"])
    batches = [normalise_batch(app, docs[i:i + args.batch], now=now, limits=Limits()) for i in range(0, len(docs), args.batch)]

    times: collections.Counter = collections.Counter()
    resend_times: collections.Counter = collections.Counter()
    real = store._cursor

    def write(b: Any, counter: collections.Counter) -> float:
        """Write a batch, adding each statement's time to `counter`; the write's seconds."""
        store._cursor = lambda: _Timed(real(), counter)  # type: ignore[method-assign]
        t = time.perf_counter()
        try:
            store.write_sessions(app, b.sessions, b.events)
        finally:
            store._cursor = real  # type: ignore[method-assign]
        return time.perf_counter() - t

    def per_write(counter: collections.Counter) -> dict[str, float]:
        """ms per write by statement, over the writes after the first"""
        return {k: v / (len(batches) - 1) * 1000 for k, v in counter.most_common()}

    per_batch, scans, resent = [], [], []
    for k, b in enumerate(batches):
        users = sorted(set(b.sessions.column("uxcamuserid").to_pylist()))
        t = time.perf_counter()
        real().execute(SCAN, [app, users]).fetchall()
        scans.append(time.perf_counter() - t)
        if k == 1:  # the breakdowns leave out the first batch, which builds the set of known ids
            times.clear()
            resend_times.clear()
        start = time.perf_counter()
        per_batch.append(write(b, times))
        if k == 0:
            while store._known.get(app) is None:
                time.sleep(0.01)
            filter_ready = time.perf_counter() - start
        if args.resend:
            resent.append(write(b, resend_times))
    store.close()

    write_ms, scan = statistics.median(per_batch[1:]) * 1000, statistics.median(scans[1:]) * 1000
    out = {"size": args.size, "batch": args.batch, "live": args.live, "first_write_ms": per_batch[0] * 1000,
           "filter_ready_ms": filter_ready * 1000, "write_ms": write_ms,
           "users_scan_ms": scan, "statements_ms": per_write(times)}
    print(f"{args.size:,} sessions{' (live)' if args.live else ''}, batches of {args.batch:,}: first write {out['first_write_ms']:.0f} ms, known-id set in "
          f"place {filter_ready:.1f} s after it started; then {write_ms:.1f} ms per write (median)")
    print(f"  baseline, the same users summed up from sessions: {scan:.1f} ms; "
          f"the whole write is {write_ms / scan:.2f}x that scan")
    if resent:
        out["resent_ms"] = statistics.median(resent[1:]) * 1000
        out["resent_statements_ms"] = per_write(resend_times)
    for stmt, ms in out["statements_ms"].items():
        print(f"  {ms:8.1f} ms  {stmt}")
    if resent:
        print(f"  the same batch written again (a retry): {out['resent_ms']:.1f} ms (median), of which")
        for stmt, ms in out["resent_statements_ms"].items():
            print(f"  {ms:8.1f} ms  {stmt}")
    save(f"write-path-{args.size}{'' if args.batch == BATCH else f'-b{args.batch}'}{'-live' if args.live else ''}{'-resend' if args.resend else ''}", out)


if __name__ == "__main__":
    main()
