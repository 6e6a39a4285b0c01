"""Export benchmark: stream `/v2/session/export` of 1,000,000 sessions from a real server and watch its memory.

The server's resident memory (VmRSS) is sampled every 0.25 s while the export streams to /dev/null, for
exports of growing size (windows holding ~10%, ~50% and 100% of the sessions), in NDJSON and Parquet.
Constant memory means the peak does not grow with the size of the export.

    python bench/export_bench.py            # 1,000,000 sessions (builds the dataset once, ~7 min)
    python bench/export_bench.py --n 100000

Writes bench/results/export.json.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from common import copy_store, dataset, save

from support.server import Server


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sampler:
    """Samples a process's resident memory in a thread until stopped."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.perf_counter()
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - start, vm_rss_mb(self.pid)))
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_export(server: Server, meta: dict, fmt: str, lower: datetime, upper: datetime) -> dict:
    fmt_time = "%Y-%m-%dT%H:%M:%SZ"
    filters = [
        {
            "attribute": "date_range",
            "operator": "between_dates",
            "value": {"lower": lower.strftime(fmt_time), "upper": upper.strftime(fmt_time)},
        }
    ]
    headers = {"appid": meta["appid"], "apikey": meta["apikey"]}
    assert server.proc is not None
    before = vm_rss_mb(server.proc.pid)
    rows = nbytes = 0
    t0 = time.perf_counter()
    with Sampler(server.proc.pid) as sampler, httpx.Client(base_url=server.base_url, timeout=None) as client:
        params = {"format": fmt, "filters": json.dumps(filters)}
        with client.stream("GET", "/v2/session/export", params=params, headers=headers) as r:
            assert r.status_code == 200, r.read()
            for chunk in r.iter_bytes():
                nbytes += len(chunk)
                if fmt == "ndjson":
                    rows += chunk.count(b"\n")
    seconds = time.perf_counter() - t0
    rss = [mb for _, mb in sampler.samples]
    quarter = max(1, len(rss) // 4)
    return {
        "format": fmt,
        "window": [lower.isoformat(), upper.isoformat()],
        "rows": rows if fmt == "ndjson" else None,
        "bytes": nbytes,
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds) if rows else None,
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(max(rss), 1),
        # the peak of each quarter of the export: flat memory means these do not climb
        "rss_peak_by_quarter_mb": [round(max(rss[i : i + quarter]), 1) for i in range(0, len(rss), quarter)][:4],
        "samples": len(rss),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--formats", default="ndjson,parquet")
    args = parser.parse_args()
    path, meta = dataset(args.n)
    copy = copy_store(path, "export")
    server = Server(data_dir=copy.parent, store_url=f"duckdb:///{copy}")
    server.start()
    now = datetime.fromisoformat(meta["now"]).replace(tzinfo=None)
    results = []
    try:
        # ~10%, ~50% and 100% of the sessions (uploaded over the 30 days before `now`)
        for days in (3, 15, 31):
            window: list[dict] = []
            for fmt in args.formats.split(","):
                result = run_export(server, meta, fmt, now - timedelta(days=days), now + timedelta(minutes=1))
                window.append(result)
            counted = [r["rows"] for r in window if r["rows"] is not None]
            for result in window:  # the same window holds the same rows in every format
                result["rows"] = counted[0] if counted else None
                print(json.dumps(result))
            results += window
    finally:
        server.stop()
        copy.unlink(missing_ok=True)
        Path(f"{copy}.wal").unlink(missing_ok=True)
    full = [r for r in results if r["format"] == "ndjson"]
    save(
        "export",
        {
            "sessions": args.n,
            "note": "server process RSS (VmRSS) sampled every 0.25 s while /v2/session/export streams to a client "
            "that discards it; DuckDB memory_limit is the server default",
            "peak_rss_mb_by_export_size": {str(r["rows"]): r["rss_peak_mb"] for r in full},
            "runs": results,
        },
    )


if __name__ == "__main__":
    main()
