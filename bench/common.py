"""Shared bench helpers: deterministic datasets on disk, a server subprocess, timing and the report."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
DATA = ROOT / "bench" / "data"
NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)  # fixed, so datasets are reproducible


ARRIVAL_ORDER = {"sessions": "app_id, uploaded_at, session_id", "events": "app_id, uploaded_at, session_id, seq"}


def in_arrival_order(con: Any) -> None:
    """Rewrite the tables in upload-time order, as a server receiving live traffic stores them.

    The demo generator emits sessions user by user, so a loaded dataset has every day in every row group
    and no time filter can skip any; live ingestion appends in upload order, where zone maps skip most.
    """
    con.execute("SET memory_limit = '6GB'")  # sort 10M+ rows by spilling, not by taking the machine's memory
    for table, order in ARRIVAL_ORDER.items():
        con.execute(f"CREATE TABLE {table}_ordered AS SELECT * FROM {table} ORDER BY {order}")
        con.execute(f"DROP TABLE {table}")
        con.execute(f"ALTER TABLE {table}_ordered RENAME TO {table}")


def dataset(n: int, seed: int = 7, days: int = 30) -> tuple[Path, dict]:
    """A DuckDB store with one app holding n demo sessions in arrival order (built once, then reused)."""
    from sessionscope import apps
    from sessionscope.demo import generate_sessions
    from sessionscope.loader import load_documents
    from sessionscope.settings import Settings
    from sessionscope.store import open_store

    folder = DATA / f"sessions-{n}-{seed}-{days}"
    meta_path = folder / "meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if not meta.get("arrival_order"):  # built by an earlier version of this script
            import duckdb

            con = duckdb.connect(str(folder / "store.duckdb"))
            in_arrival_order(con)
            con.execute("CHECKPOINT")
            con.close()
            meta["arrival_order"] = True
            meta_path.write_text(json.dumps(meta))
        return migrated(folder / "store.duckdb"), meta
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    settings = Settings(data_dir=folder)
    store = open_store(f"duckdb:///{folder / 'store.duckdb'}")
    creds = apps.create_app(store, "bench")
    docs = generate_sessions(n, days=days, seed=seed, now=NOW)
    stats = load_documents(store, settings, creds.appid, docs, total=n, batch_size=20_000, label=f"building {n:,} sessions")
    store.close()
    import duckdb

    con = duckdb.connect(str(folder / "store.duckdb"))
    in_arrival_order(con)
    con.execute("CHECKPOINT")
    con.close()
    meta = {"arrival_order": True, "appid": creds.appid, "apikey": creds.apikey, "ingest_key": creds.ingest_key, "n": n,
            "load_per_second": stats.per_second, "now": NOW.isoformat()}
    meta_path.write_text(json.dumps(meta))
    return folder / "store.duckdb", meta


def migrated(path: Path) -> Path:
    """A dataset built by an earlier version, brought to the current schema (as a server opening it would)."""
    from sessionscope.store.duckdb import DuckDBStore

    DuckDBStore(str(path)).close()
    return path


def copy_store(path: Path, suffix: str) -> Path:
    target = path.with_name(f"{path.stem}-{suffix}.duckdb")
    # a WAL left by an earlier run's copy belongs to that file, not this one
    target.with_name(target.name + ".wal").unlink(missing_ok=True)
    shutil.copyfile(path, target)
    return target


def remove_store(path: Path) -> None:
    """Remove a private copy made by copy_store, with its WAL."""
    path.unlink()
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def timed(fn: Callable[[], object], repeat: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def summary(samples: list[float]) -> dict:
    s = sorted(samples)
    return {"median_ms": statistics.median(s) * 1000, "p95_ms": s[int(0.95 * (len(s) - 1))] * 1000, "n": len(s)}


def rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def save(name: str, result: dict) -> None:
    out = ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"] = {"cpus": os.cpu_count()}
    out.write_text(json.dumps(result, indent=2))
    print(f"saved {out.relative_to(ROOT)}")
