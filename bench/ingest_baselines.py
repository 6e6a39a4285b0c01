"""Baselines for `sessionscope import`, measured in the same run on the same file and the same store.

An import rate alone does not say how far it is from what this machine can do. Three references put it in
proportion, each on its own copy of the dataset's store, each the median of RUNS runs:
  read_json   DuckDB's own NDJSON import of the file into one table, in a fresh process (process start and
              final checkpoint included, as for the import): no validation, no events table, no numbering;
              the engine's native JSON path, about the fastest this data can reach a DuckDB file here.
  write only  the store's write of the same sessions, already validated (`write_sessions` in batches of
              30,000, as the import writes them, then the closing checkpoint): the import with free
              validation.
  validate    decoding and validating the file's lines on one core (`NdjsonLines.decode` +
              `normalise_batch`): the work the import spreads over its worker processes.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import copy_store, remove_store

_READ_JSON = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE import_baseline AS SELECT * FROM read_json(?, format = 'newline_delimited')", [sys.argv[2]])
con.execute("CHECKPOINT")
print(con.execute("SELECT count(*) FROM import_baseline").fetchone()[0])
con.close()
"""

WRITE_ROWS = 30_000  # as `load_batches` groups an import's writes
RUNS = 3  # each rate is the median of this many runs (the import's too, in run.py)


def rates(store: Path, suffix: str, n: int, run: Callable[[Path], None]) -> list[float]:
    """Sessions per second of `run` on a fresh copy of `store` (n sessions), once per each of RUNS runs."""
    out = []
    for _ in range(RUNS):
        target = copy_store(store, suffix)
        t = time.perf_counter()
        run(target)
        out.append(n / (time.perf_counter() - t))
        remove_store(target)
    return out


def read_json_rate(store: Path, file: Path, n: int) -> float:
    """Sessions per second of DuckDB's read_json of `file` into a table of a copy of `store`."""

    def run(target: Path) -> None:
        proc = subprocess.run([sys.executable, "-c", _READ_JSON, str(target), str(file)],
                              capture_output=True, text=True, check=True)
        assert int(proc.stdout.strip()) == n, proc.stdout

    return statistics.median(rates(store, "read-json", n, run))


def validated(file: Path, appid: str) -> tuple[list[Any], float]:
    """The file's sessions validated in batches of WRITE_ROWS, and the one-core rate of doing so."""
    from sessionscope.ingest import Limits, normalise_batch
    from sessionscope.ingest.parse import gc_paused, iter_ndjson_lines

    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    batches, n, seconds = [], 0, 0.0
    for lines in iter_ndjson_lines(file, WRITE_ROWS):
        t = time.perf_counter()
        with gc_paused():
            batch = normalise_batch(appid, lines.decode(), now=now, limits=Limits())
        seconds += time.perf_counter() - t
        assert not batch.rejected, batch.rejected[:1]
        batches.append(batch)
        n += len(lines)
    return batches, n / seconds


def write_rate(store: Path, appid: str, batches: list[Any]) -> float:
    """Sessions per second of the store writing the validated batches into a copy of `store`."""
    from sessionscope.store.duckdb import DuckDBStore

    def run(target: Path) -> None:
        s = DuckDBStore(str(target))
        for b in batches:
            s.write_sessions(appid, b.sessions, b.events)
        s.close()

    return statistics.median(rates(store, "write-only", sum(b.sessions.num_rows for b in batches), run))


def measure(store: Path, file: Path, appid: str, n: int, import_rate: float) -> dict:
    """All three baselines, and the import's ratio to each."""
    rj = read_json_rate(store, file, n)
    batches, validate = validated(file, appid)
    write = write_rate(store, appid, batches)
    out = {"read_json_per_second": rj, "write_only_per_second": write, "validate_one_core_per_second": validate,
           "import_over_read_json": import_rate / rj, "import_over_write_only": import_rate / write}
    print(f"baselines for the import: DuckDB read_json into a table {rj:,.0f}/s (import {import_rate / rj:.2f}x); "
          f"the store's write of validated sessions {write:,.0f}/s (import {import_rate / write:.2f}x); "
          f"validation on one core {validate:,.0f}/s", flush=True)
    return out
