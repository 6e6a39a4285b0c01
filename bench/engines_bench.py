"""List and analytics on both engines: the API on DuckDB and on chDB, each against its own hand-written SQL.

The chDB store is the DuckDB dataset moved with `sessionscope copy` (in-process, built once). For each
engine a server runs as its own process on one copy of the store and the hand-written SQL runs here on
another copy; requests alternate (SQL, API) so drift hits both. Reported per query: each engine's API
time over its hand-written SQL, and chDB's API time over DuckDB's.
Usage: python bench/engines_bench.py [--sessions 1000000] [--repeat 9]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
import urllib.parse
from pathlib import Path
from typing import Any

import duckdb
import httpx
import suite
from analytics_bench import QUERIES as DUCK_ANALYTICS
from analytics_bench import WINDOW, replicated
from analytics_bench import run_sql as run_duck_analytics
from common import DATA, copy_store, save, summary
from list_bench import QUERIES as LIST_QUERIES

from support.server import Server

LO, HI = "2026-10-02 12:00:00", "2026-11-01 12:00:00"
PREV_LO, PREV_HI = "2026-09-02 11:59:59", "2026-10-02 11:59:59"

CH_METRICS, CH_TENANT = suite.C_METRICS, suite.C_TENANT


def ch_folded(columns: list[str], where: str) -> str:
    return suite.folded("clickhouse", columns, where)


# hand-written ClickHouse SQL for the same five analytics requests (analytics_bench.QUERIES order)
CH_ANALYTICS = [
    [f"SELECT {CH_METRICS} FROM sessions WHERE {CH_TENANT}"],
    [ch_folded(["model"], "device_country = 'USA'")],
    [ch_folded(["app_version", "model"], "platform = 'android'")],
    [f"SELECT toStartOfDay(uploaded_at) AS d, {CH_METRICS} FROM sessions WHERE {CH_TENANT} GROUP BY d ORDER BY d"],
    [f"SELECT {CH_METRICS} FROM sessions WHERE {CH_TENANT}", f"SELECT {CH_METRICS} FROM sessions WHERE {CH_TENANT}#prev"],
]
# hand-written ClickHouse WHERE for list_bench.QUERIES, in order, with named values
CH_LIST = [
    ("device_country = {a:String}", {"a": "USA"}),
    ("platform = {a:String} AND duration_sec > {b:Float64}", {"a": "ios", "b": 60}),
    ("hasAny(event_names, {a:Array(String)})", {"a": ["Purchase"]}),
    ("hasAny(screens, {a:Array(String)}) AND is_crashed = {b:Bool}", {"a": ["CartActivity", "CartViewController"], "b": True}),
    ("has({a:Array(String)}, uprops['age_group'])", {"a": ["20-29"]}),
]


def chdb_dataset(duck_path: Path, n: int) -> Path:
    """The DuckDB dataset copied into a chDB directory next to it (built once)."""
    from sessionscope.copy import copy_store as copy_rows
    from sessionscope.store import open_store

    target = duck_path.parent / "store.chdb"
    done = duck_path.parent / "chdb.done"
    if done.exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    src, dst = open_store(f"duckdb:///{duck_path}", read_only=True), open_store(f"chdb:///{target}")
    t = time.perf_counter()
    stats = copy_rows(src, dst, batch_rows=200_000)
    dst.driver.command("OPTIMIZE TABLE sessions FINAL", {})
    dst.driver.command("OPTIMIZE TABLE events FINAL", {})
    print(f"copied into chDB in {time.perf_counter() - t:.0f} s: {stats.copied}")
    src.close()
    dst.close()
    assert stats.copied["sessions"] == n
    done.write_text(json.dumps(stats.copied))
    return target


def chdb_replicated(n: int) -> tuple[Path, dict]:
    """(chDB store, dataset meta) of n sessions: the 1M dataset, copies with fresh session and user ids, made
    the same way as analytics_bench.replicated makes DuckDB's, but inside ClickHouse, so that sizes whose
    DuckDB file would not fit on the disk (100M) need no DuckDB copy. Above 10M only `sessions` is merged
    into one part per month after the copy (the queries read it); `events` keeps the parts of its insert."""
    from sessionscope.store.chdb import ChdbStore

    base_duck, base_meta = replicated(1_000_000)
    base = chdb_dataset(base_duck, base_meta["n"])
    copies = n // 1_000_000
    if copies <= 1:
        return base, base_meta
    folder = DATA / f"sessions-{n}-replicated"
    target, done = folder / "store.chdb", folder / "chdb.done"
    meta = {**base_meta, "n": n, "replicated_from": str(base)}
    if done.exists():
        return target, meta
    folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target, symlinks=True)
    (target / "status").unlink(missing_ok=True)
    store = ChdbStore(str(target))
    t = time.perf_counter()
    user = "concat(t.uxcamuserid, '-', toString(k))"
    for table in ("sessions", "events"):
        # a copy's user is a new user: sessions carry its key (store/ch_common.py: the id's SipHash128)
        key = f", reinterpretAsUInt128(sipHash128({user})) AS user_key" if table == "sessions" else ""
        store.driver.command(
            f"INSERT INTO {table} SELECT t.* REPLACE (concat(t.session_id, '-', toString(k)) AS session_id, "
            f"{user} AS uxcamuserid{key}) FROM {table} AS t, "
            f"(SELECT number AS k FROM numbers(1, {copies - 1})) AS r",
            {},
        )
        print(f"replicated chDB {table} in {time.perf_counter() - t:.0f} s", flush=True)
        if table == "sessions" or copies <= 10:
            store.driver.command(f"OPTIMIZE TABLE {table} FINAL", {})
            print(f"merged chDB {table} in {time.perf_counter() - t:.0f} s", flush=True)
    assert store.query("SELECT count() FROM sessions", {})[0][0] == n
    print(f"replicated chDB to {n:,} sessions in {time.perf_counter() - t:.0f} s")
    store.close()
    done.write_text(json.dumps({"n": n}))
    return target, meta


def copy_dir(path: Path, suffix: str) -> Path:
    target = path.with_name(f"{path.name}-{suffix}")
    shutil.rmtree(target, ignore_errors=True)
    # ClickHouse keeps database metadata as absolute symlinks into the directory: repoint them to the copy
    shutil.copytree(path, target, symlinks=True)
    for link in [p for p in target.rglob("*") if p.is_symlink()]:
        pointed = Path(os.readlink(link))
        if pointed.is_relative_to(path):
            link.unlink()
            link.symlink_to(target / pointed.relative_to(path))
    (target / "status").unlink(missing_ok=True)
    return target


def api_url(path: str, params: dict[str, Any]) -> str:
    return path + "?" + urllib.parse.urlencode({k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in params.items()})


def workload() -> list[tuple[str, str, int]]:
    """(name, API url, index into the hand-written SQL tables) for the list and analytics requests."""
    out = []
    for i, (name, filters, _, _) in enumerate(LIST_QUERIES):
        params = {"filters": [{"attribute": "date_range", "operator": "between_dates", "value": WINDOW}, *filters], "page_size": 50}
        out.append((f"list: {name}", api_url("/v2/session", params), i))
    for i, (name, params, _) in enumerate(DUCK_ANALYTICS):
        filters = [{"attribute": "date_range", "operator": "between_dates", "value": WINDOW}, *params.get("filters", [])]
        query = {**{k: v for k, v in params.items() if k != "filters"}, "filters": filters, "page_size": 500}
        out.append((f"analytics: {name}", api_url("/v2/session/analytics", query), i))
    return out


def duck_sql(con: duckdb.DuckDBPyConnection, name: str, i: int, appid: str, cols: str) -> Any:
    if name.startswith("list"):
        _, _, where, values = LIST_QUERIES[i]
        sql = (f"SELECT {cols} FROM sessions WHERE app_id = ? AND uploaded_at BETWEEN ?::TIMESTAMP AND ?::TIMESTAMP "
               f"AND {where} ORDER BY uploaded_at DESC, session_id LIMIT 51")
        return con.execute(sql, [appid, LO, HI, *values]).fetchall()
    return run_duck_analytics(con, DUCK_ANALYTICS[i][2], appid)


def ch_sql(store: Any, name: str, i: int, appid: str, cols: str) -> Any:
    if name.startswith("list"):
        where, values = CH_LIST[i]
        sql = (f"SELECT {cols} FROM sessions WHERE {CH_TENANT} AND {where} "
               "ORDER BY uploaded_at DESC, session_id LIMIT 51")
        return store.query(sql, {"app": appid, "lo": _dt(LO), "hi": _dt(HI), **values})
    out = []
    for sql in CH_ANALYTICS[i]:
        prev = sql.endswith("#prev")
        params = {"app": appid, "lo": _dt(PREV_LO if prev else LO), "hi": _dt(PREV_HI if prev else HI)}
        out.append(store.query(sql.removesuffix("#prev"), params))
    return out


def _dt(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


def measure(engine: str, store_url: str, data_dir: Path, meta: dict, sql_fn: Any, repeat: int) -> dict[str, dict]:
    from sessionscope import shape

    cols = ", ".join(shape.SESSION_COLUMNS)
    server = Server(data_dir=data_dir, store_url=store_url)
    server.start()
    headers = {"appid": meta["appid"], "apikey": meta["apikey"]}
    out = {}
    try:
        with httpx.Client(base_url=server.base_url, timeout=600) as client:
            for name, url, i in workload():
                r = client.get(url, headers=headers)
                assert r.status_code == 200, r.text
                for _ in range(2):
                    client.get(url, headers=headers)
                    sql_fn(name, i, meta["appid"], cols)
                api_t, sql_t = [], []
                for _ in range(repeat):
                    t = time.perf_counter()
                    sql_fn(name, i, meta["appid"], cols)
                    sql_t.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    client.get(url, headers=headers)
                    api_t.append(time.perf_counter() - t)
                ratio = statistics.median(api_t) / statistics.median(sql_t)
                out[name] = {"api": summary(api_t), "sql": summary(sql_t), "api_over_sql": ratio, "rows": len(r.json()["data"])}
                print(f"{engine:6s} {name:48s} api {out[name]['api']['median_ms']:8.1f} ms  "
                      f"sql {out[name]['sql']['median_ms']:8.1f} ms  ratio {ratio:5.2f}x", flush=True)
    finally:
        server.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()

    duck_path, meta = replicated(args.sessions)
    ch_path, _ = chdb_replicated(args.sessions)

    api_copy, sql_copy = copy_store(duck_path, "api"), copy_store(duck_path, "sql")
    con = duckdb.connect(str(sql_copy), read_only=True)
    duck = measure("duckdb", f"duckdb:///{api_copy}", api_copy.parent,
                   meta, lambda n, i, a, c: duck_sql(con, n, i, a, c), args.repeat)
    con.close()

    from sessionscope.store.chdb import ChdbStore

    ch_api, ch_sql_copy = copy_dir(ch_path, "api"), copy_dir(ch_path, "sql")
    store = ChdbStore(str(ch_sql_copy), read_only=True)
    ch = measure("chdb", f"chdb:///{ch_api}", ch_api.parent, meta,
                 lambda n, i, a, c: ch_sql(store, n, i, a, c), args.repeat)
    store.close()

    rows = []
    for name in duck:
        rows.append({
            "query": name,
            "duckdb": duck[name],
            "chdb": ch[name],
            "chdb_over_duckdb_api": ch[name]["api"]["median_ms"] / duck[name]["api"]["median_ms"],
        })
        print(f"{name:58s} chDB/DuckDB {rows[-1]['chdb_over_duckdb_api']:5.2f}x   "
              f"DuckDB api/sql {duck[name]['api_over_sql']:4.2f}x   chDB api/sql {ch[name]['api_over_sql']:4.2f}x")
    save("engines", {"sessions": meta["n"], "repeat": args.repeat, "queries": rows})


if __name__ == "__main__":
    main()
