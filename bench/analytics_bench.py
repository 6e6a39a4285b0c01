"""GET /v2/session/analytics vs the same query hand-written in DuckDB SQL, on the same data, in the same run.

Five queries (issue 3): totals, a one-level and a two-level group-by with a filter, a day-bucket series, and
a comparison. Each baseline is what one would write by hand for the same answer: the default metrics, the
top-N folding into "others" for group-bys, the previous window for the comparison (two statements, as the
API runs two). The server runs as its own process on one copy of the store; the baseline runs here on
another copy. Requests alternate (baseline, API) so drift hits both. Answers are checked equal first.
Usage: python bench/analytics_bench.py [--sessions 10000000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import time
import urllib.parse
from pathlib import Path
from typing import Any

import duckdb
import httpx
import suite
from common import ARRIVAL_ORDER, DATA, copy_store, dataset, in_arrival_order, migrated, rss_mb, save, summary

from sessionscope.store.duckdb import REBUILD_USER_STATE
from support.server import Server

WINDOW = {"lower": "2026-10-02T12:00:00Z", "upper": "2026-11-01T12:00:00Z"}
LO, HI = "2026-10-02 12:00:00", "2026-11-01 12:00:00"
PREV_LO, PREV_HI = "2026-09-02 11:59:59", "2026-10-02 11:59:59"  # the 30 days + 1 s just before

METRICS, TENANT = suite.D_METRICS, suite.D_TENANT


def folded(columns: list[str], where: str) -> str:
    return suite.folded("duckdb", columns, where)


QUERIES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("totals (default metrics)", {}, [f"SELECT {METRICS} FROM sessions WHERE {TENANT}"]),
    (
        "group by device_model, filter country",
        {
            "group_by": [{"attribute": "device_model"}],
            "filters": [{"attribute": "device_country", "operator": "equal", "value": "USA"}],
        },
        [folded(["model"], "device_country = 'USA'")],
    ),
    (
        "group by app_version x model, filter",
        {
            "group_by": [{"attribute": "app_version"}, {"attribute": "device_model"}],
            "filters": [{"attribute": "device_platform", "operator": "equal", "value": "1"}],
        },
        [folded(["app_version", "model"], "platform = 'android'")],
    ),
    (
        "day buckets",
        {"group_by": [{"attribute": "session_uploadedon_day"}]},
        [
            f"SELECT date_trunc('day', uploaded_at) AS d, {METRICS} FROM sessions WHERE {TENANT} GROUP BY d ORDER BY d"
        ],
    ),
    (
        "comparison (totals)",
        {"comparison": 1},
        [
            f"SELECT {METRICS} FROM sessions WHERE {TENANT}",
            f"SELECT {METRICS} FROM sessions WHERE {TENANT}#prev",
        ],
    ),
]


# Above 10 copies only `sessions` is replicated (the suite reads no other table), straight into upload-time
# order: 0.19 GB a million sessions on disk, against 0.4 GB with `events` and 0.66-0.84 GB for a table
# rewritten whole by `in_arrival_order`, which leaves the old table's blocks free in the file.
COMPACT_ABOVE = 10


def copy_k(key: bool = True) -> str:
    """The select list of copy k of a row of `t`: the row itself for k = 0; for the others fresh session and
    user ids and, where the table has one, a fresh user key ($stride apart: the base's largest key)."""
    renamed = [
        "if(k = 0, t.session_id, t.session_id || '-' || k) AS session_id",
        "if(k = 0, t.uxcamuserid, t.uxcamuserid || '-' || k) AS uxcamuserid",
        *(["t.user_key + k * $stride AS user_key"] if key else []),
    ]
    return f"t.* REPLACE ({', '.join(renamed)})"


def sessions_by_hour(con: duckdb.DuckDBPyConnection, copies: int, stride: int) -> None:
    """Replace `sessions` by `copies` copies of it (`copy_k`), written one upload hour at a time, each hour
    sorted as `in_arrival_order` sorts: a small sort per hour (a day of copies at 100M did not fit a 6 GB
    sort), and the new table is the only one written, so the file holds nothing but it."""
    con.execute("SET memory_limit = '6GB'")
    con.execute("SET enable_progress_bar = false")
    con.execute("CREATE TABLE sessions_copies AS FROM sessions LIMIT 0")
    hours = [h for (h,) in con.execute(
        "SELECT DISTINCT date_trunc('hour', uploaded_at) AS h FROM sessions ORDER BY h").fetchall()]
    t = time.perf_counter()
    for i, hour in enumerate(hours):
        con.execute(
            f"INSERT INTO sessions_copies SELECT {copy_k()} FROM sessions t, range(0, $copies) r(k) "
            "WHERE t.uploaded_at >= $hour AND t.uploaded_at < $hour + INTERVAL 1 HOUR "
            f"ORDER BY {ARRIVAL_ORDER['sessions']}",
            {"copies": copies, "hour": hour, "stride": stride},
        )
        if (i + 1) % 24 == 0 or i + 1 == len(hours):
            print(f"  replicated {i + 1}/{len(hours)} hours in {time.perf_counter() - t:.0f} s", flush=True)
    con.execute("DROP TABLE sessions")
    con.execute("ALTER TABLE sessions_copies RENAME TO sessions")


def replicated(n: int) -> tuple[Path, dict]:
    """A store of n sessions: the 1M demo dataset copied n/1M times with fresh session and user ids.

    Building 10M demo sessions through the loader takes long; copies keep the demo's distributions (each
    copy is another population of users with the same behaviour), so they measure the same queries.
    """
    base, meta = dataset(1_000_000)
    copies = n // 1_000_000
    if copies <= 1:
        return base, meta
    folder = DATA / f"sessions-{n}-replicated"
    target, meta_path = folder / "store.duckdb", folder / "meta.json"
    if meta_path.exists() and json.loads(meta_path.read_text()).get("replica_order"):
        return migrated(target), json.loads(meta_path.read_text())
    folder.mkdir(parents=True, exist_ok=True)  # it may hold chDB's copy of the same size: keep that
    target.with_name(target.name + ".wal").unlink(missing_ok=True)
    shutil.copyfile(base, target)
    con = duckdb.connect(str(target))
    stride = con.execute("SELECT max(user_key) FROM user_state").fetchall()[0][0]
    if copies <= COMPACT_ABOVE:
        for table, key in (("sessions", True), ("events", False)):
            con.execute(
                f"INSERT INTO {table} SELECT {copy_k(key)} FROM {table} t, range(1, $copies) r(k)",
                {"copies": copies, **({"stride": stride} if key else {})},
            )
        in_arrival_order(con)  # the copies are more traffic over the same days, not days after days
    else:
        sessions_by_hour(con, copies, stride)
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'user_state'").fetchone()[0]:
        for stmt in REBUILD_USER_STATE:  # the copies' users get their per-user state, as a write would give them
            con.execute(stmt)
    con.execute("CHECKPOINT")
    assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == n
    con.close()
    meta = {**meta, "n": n, "replicated_from": str(base), "replica_order": True}
    meta_path.write_text(json.dumps(meta))
    return target, meta


def run_sql(con: duckdb.DuckDBPyConnection, sqls: list[str], appid: str) -> list[list[tuple]]:
    out = []
    for sql in sqls:
        prev = sql.endswith("#prev")
        params = {"app": appid, "lo": PREV_LO if prev else LO, "hi": PREV_HI if prev else HI}
        out.append(con.execute(sql.removesuffix("#prev"), params).fetchall())
    return out


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)
    return a == b


def check(name: str, api: dict, base: list[list[tuple]]) -> None:
    """The API's counts equal the hand-written query's, group for group (compared as sorted tuples)."""
    rows = api["data"]
    counts = ["session_count", "session_unique_user_count", "session_new_users_count"]
    api_counts = sorted(tuple(r[k] for k in counts) for r in rows if r["session_count"])
    base_counts = sorted(tuple(row[-9:-6]) for row in base[0] if row[-9])
    assert api_counts == base_counts, name
    if name.startswith("totals"):
        values = [v for k, v in rows[0].items() if k != "dashboard_link"]
        assert all(_close(a, b) for a, b in zip(values, base[0][0], strict=True)), name


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()

    path, meta = replicated(args.sessions)
    api_copy, sql_copy = copy_store(path, "api"), copy_store(path, "sql")
    server = Server(data_dir=api_copy.parent, store_url=f"duckdb:///{api_copy}")
    server.start()
    con = duckdb.connect(str(sql_copy), read_only=True)
    headers = {"appid": meta["appid"], "apikey": meta["apikey"]}
    results = []
    try:
        with httpx.Client(base_url=server.base_url, timeout=600) as client:
            for name, params, sqls in QUERIES:
                filters = [
                    {"attribute": "date_range", "operator": "between_dates", "value": WINDOW},
                    *params.get("filters", []),
                ]
                query = {
                    **{k: v for k, v in params.items() if k != "filters"},
                    "filters": filters,
                    "page_size": 500,
                }
                url = "/v2/session/analytics?" + urllib.parse.urlencode(
                    {k: (json.dumps(v) if isinstance(v, list | dict) else v) for k, v in query.items()}
                )
                answer = client.get(url, headers=headers)
                assert answer.status_code == 200, answer.text
                check(name, answer.json(), run_sql(con, sqls, meta["appid"]))
                for _ in range(2):  # warm both
                    client.get(url, headers=headers)
                    run_sql(con, sqls, meta["appid"])
                api_t, sql_t = [], []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    run_sql(con, sqls, meta["appid"])
                    sql_t.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    r = client.get(url, headers=headers)
                    api_t.append(time.perf_counter() - t)
                    assert r.status_code == 200
                a, b = summary(api_t), summary(sql_t)
                ratio = statistics.median(api_t) / statistics.median(sql_t)
                results.append(
                    {"query": name, "api": a, "sql": b, "ratio": ratio, "rows": len(answer.json()["data"])}
                )
                print(
                    f"{name:40s} api {a['median_ms']:8.1f} ms  sql {b['median_ms']:8.1f} ms  ratio {ratio:5.2f}x"
                )
        peak = rss_mb(server.proc.pid)  # type: ignore[union-attr]
    finally:
        server.stop()
        con.close()
    print(f"server peak RSS: {peak:.0f} MiB (sessions in store: {meta['n']:,})")
    save("analytics", {"sessions": meta["n"], "queries": results, "server_peak_rss_mib": peak})


if __name__ == "__main__":
    main()
