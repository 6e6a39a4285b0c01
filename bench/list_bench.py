"""GET /v2/session vs the same query hand-written in DuckDB SQL, on the same data, in the same run.

The server runs as its own process on one copy of the store; the baseline runs here on another copy,
so neither shares a GIL or a lock with the other. Requests alternate (baseline, API) so drift hits both.
Usage: python bench/list_bench.py [--sessions 1000000] [--repeat 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import urllib.parse

import duckdb
import httpx
from common import copy_store, dataset, rss_mb, save, summary

from support.server import Server

WINDOW = {"lower": "2026-10-02T12:00:00Z", "upper": "2026-11-01T12:00:00Z"}
LO, HI = "2026-10-02 12:00:00", "2026-11-01 12:00:00"

COLUMNS = None  # filled from sessionscope.shape so the baseline selects exactly what the API selects

# (name, API filters, hand-written WHERE after the tenant and window, its parameters)
QUERIES = [
    ("one filter: country", [{"attribute": "device_country", "operator": "equal", "value": "USA"}],
     "device_country = ?", ["USA"]),
    ("two filters: ios + duration>60",
     [{"attribute": "device_platform", "operator": "equal", "value": "2"},
      {"attribute": "session_duration", "operator": "greater", "value": 60}],
     "platform = ? AND duration_sec > ?", ["ios", 60]),
    ("event_name in [Purchase]", [{"attribute": "event_name", "operator": "in", "value": ["Purchase"]}],
     "list_has_any(event_names, ?)", [["Purchase"]]),
    ("screen has_any + crashed",
     [{"attribute": "session_screen_list", "operator": "has_any", "value": ["CartActivity", "CartViewController"]},
      {"attribute": "session_crashed", "operator": "equal", "value": True}],
     "list_has_any(screens, ?) AND is_crashed = ?", [["CartActivity", "CartViewController"], True]),
    ("custom property age_group in",
     [{"attribute": "user_custom_property", "property_name": "age_group", "operator": "in", "value": ["20-29"]}],
     "list_contains(?, uprops['age_group'])", [["20-29"]]),
]


def main() -> None:
    from sessionscope import shape

    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=40)
    args = ap.parse_args()

    path, meta = dataset(args.sessions)
    api_copy, sql_copy = copy_store(path, "api"), copy_store(path, "sql")
    server = Server(data_dir=api_copy.parent, store_url=f"duckdb:///{api_copy}")
    server.start()
    con = duckdb.connect(str(sql_copy), read_only=True)
    cols = ", ".join(shape.SESSION_COLUMNS)
    headers = {"appid": meta["appid"], "apikey": meta["apikey"]}
    rows = []
    try:
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            for name, filters, where, params in QUERIES:
                api_filters = [{"attribute": "date_range", "operator": "between_dates", "value": WINDOW}, *filters]
                url = "/v2/session?page_size=50&filters=" + urllib.parse.quote(json.dumps(api_filters))
                sql = (f"SELECT {cols} FROM sessions WHERE app_id = ? AND uploaded_at BETWEEN ? AND ? AND {where} "
                       "ORDER BY uploaded_at DESC, session_id LIMIT 51")
                sql_params = [meta["appid"], LO, HI, *params]
                check = client.get(url, headers=headers).json()
                base_rows = con.execute(sql, sql_params).fetchall()
                assert [d["sessionId"] for d in check["data"]] == [r[0] for r in base_rows[:50]], name
                api_t, sql_t = [], []
                for _ in range(3):  # warm both
                    client.get(url, headers=headers)
                    con.execute(sql, sql_params).fetchall()
                import time
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    con.execute(sql, sql_params).fetchall()
                    sql_t.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    r = client.get(url, headers=headers)
                    api_t.append(time.perf_counter() - t)
                    assert r.status_code == 200
                a, b = summary(api_t), summary(sql_t)
                ratio = statistics.median(api_t) / statistics.median(sql_t)
                rows.append({"query": name, "api": a, "sql": b, "ratio": ratio, "rows": len(check["data"])})
                print(f"{name:36s} api {a['median_ms']:7.2f} ms  sql {b['median_ms']:7.2f} ms  ratio {ratio:5.2f}x")
        peak = rss_mb(server.proc.pid)  # type: ignore[union-attr]
    finally:
        server.stop()
        con.close()
    print(f"server peak RSS: {peak:.0f} MiB (sessions in store: {meta['n']:,})")
    save("list", {"sessions": meta["n"], "queries": rows, "server_peak_rss_mib": peak})


if __name__ == "__main__":
    main()
