"""`make bench`: the whole benchmark suite in one process, on the same warm data, with one table at the end.

For each dataset size (deterministic: the 1M demo dataset, replicated inside the engine for larger sizes)
and each engine, every query of `suite.queries()` runs as:
  sql       hand-written engine SQL returning Arrow (the baseline every ratio is taken against)
  inproc    sessionscope's query layer called in-process (validate, plan, render, run, shape)
  http      the same request through a real HTTP server (uvicorn, in a thread of this process, same store)
  polars    Polars on the same columns held in memory (DuckDB runs only, up to --polars-max rows)
  numpy     a floor: masks and bincounts over the same columns (where the query maps onto them)
Modes are interleaved within each repetition so machine drift hits all of them alike. Answers are checked
against the baseline before timing. Then: serialising a 50-row page, small-request throughput with 32
clients, the ClickBench-style subset, and ingestion (HTTP batches of 100/1k/10k with a reader running, and
`sessionscope import`, beside DuckDB's own read_json of the same file and the store's write of the same
sessions already validated: see ingest_baselines). Results go to bench/results/NAME.json and NAME.md (NAME is
`suite`, `suite-partial` for a run with --skip, or --name); the previous run of that name is kept as
NAME.previous.* and its medians are shown beside the new ones.

Usage: python bench/run.py [--sizes 1000000,10000000] [--engines duckdb,chdb] [--repeat 9] [--warmup 2]
                           [--skip queries,ingest] [--name suite-10m]
(10M: `--sizes 10000000 --engines duckdb,chdb --repeat 3 --skip ingest --name suite-10m`; 100M:
`--sizes 100000000 --engines duckdb --repeat 3 --warmup 1 --skip ingest --name suite-100m-duckdb`, and the
same with `--engines chdb --name suite-100m`; DuckDB's 100M dataset holds `sessions` only. See bench/README.md.)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import clickbench
import ingest_baselines
import orjson
import suite
from common import ROOT, copy_store, rss_mb, save, summary

RESULTS = ROOT / "bench" / "results"


# --- servers and clients ---------------------------------------------------------------------
class ThreadServer:
    """uvicorn serving the app in a thread of this process, over the store the other modes use."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        from support.server import free_port

        self.port = free_port()
        # a long keep-alive: at 10M the other modes of a query keep the client's connection idle for seconds
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
                                timeout_keep_alive=600)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join()


class Client:
    """A keep-alive HTTP/1.1 client with no parsing on the timed path (the body is read, not decoded)."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.headers = headers

    def get(self, url: str) -> bytes:
        self.conn.request("GET", url, headers=self.headers)
        r = self.conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"{url}: {r.status} {body[:300]!r}")
        return body


def api_url(path: str, params: dict[str, Any]) -> str:
    return path + "?" + urllib.parse.urlencode(
        {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in params.items()})


# --- engines ---------------------------------------------------------------------------------
def open_engine(engine: str, n: int) -> tuple[Any, dict, Callable[[str, list[Any]], Any]]:
    """(store, dataset meta, run(sql, window) -> Arrow) on a private copy of the n-session dataset."""
    from analytics_bench import COMPACT_ABOVE, replicated
    from engines_bench import chdb_replicated, copy_dir

    if engine == "duckdb":
        from sessionscope.store.duckdb import DuckDBStore

        duck_path, meta = replicated(n)
        # A compact (100M) dataset fits on the disk once: the suite only reads, so it opens that file itself.
        private = duck_path if n // 1_000_000 > COMPACT_ABOVE else copy_store(duck_path, "suite")
        store = DuckDBStore(str(private), memory_limit="4GB")
        cur = store._conn.cursor()

        def run(sql: str, window: tuple[datetime, datetime]) -> Any:
            return cur.sql(sql, params={"app": meta["appid"], "lo": window[0], "hi": window[1]}).to_arrow_table()
    else:
        from sessionscope.store.chdb import ChdbStore

        ch_path, meta = chdb_replicated(n)
        store = ChdbStore(str(copy_dir(ch_path, "suite")))

        def run(sql: str, window: tuple[datetime, datetime]) -> Any:
            return store.query_arrow(sql, {"app": meta["appid"], "lo": window[0], "hi": window[1]})
    return store, meta, run


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the query mix ---------------------------------------------------------------------------
def check(q: suite.Query, base: list[Any], inproc: dict) -> None:
    """The query layer's answer equals the hand-written SQL's (ids for lists, group counts for analytics)."""
    if q.kind == "events":  # each event by its session, name and time in the session
        got = [(d["sessionProperty"]["sessionId"], d["eventName"], d["eventPropertyTime"]) for d in inproc["data"]]
        want = [tuple(r.values())[:3] for r in base[0].to_pylist()[:50]]
        assert got == want, (q.name, got[:3], want[:3])
        return
    if q.kind != "analytics":
        key, column = ("sessionId", "session_id") if q.kind == "list" else ("uxcamUserId", "uxcamuserid")
        got = [d[key] for d in inproc["data"]]
        want = base[0].column(column).to_pylist()[:50]
        assert got == want, (q.name, got[:3], want[:3])
        if q.kind == "users":  # and each user's totals
            assert [d["usage"]["totalSession"] for d in inproc["data"]] == base[0].column("n").to_pylist()[:50]
        return
    # every baseline row ends with the nine default metrics; the first three are the counts
    want = sorted(tuple(r[-9:-6]) for r in (tuple(row.values()) for row in base[0].to_pylist()) if r[-9])
    assert suite.group_counts(inproc["data"]) == want, q.name


def measure_queries(
    engine: str, n: int, repeat: int, polars_max: int, numpy_max: int, warmup: int = 2
) -> tuple[list[dict], dict]:
    from sessionscope import analytics, service
    from sessionscope.api.app import create_app
    from sessionscope.settings import Settings

    store, meta, run_sql = open_engine(engine, n)
    settings = Settings(data_dir=Path(store.path).parent if engine == "duckdb" else Path(store.path),
                        public_url="http://127.0.0.1", secret_key="bench-secret-0123456789abcdef")
    secret = settings.resolved_secret()
    frame = cols = None
    if engine == "duckdb" and n <= polars_max:
        import polars as pl

        table = store._conn.cursor().sql(suite.FRAME_SQL, params={"app": meta["appid"]}).to_arrow_table()
        frame, cols = pl.from_arrow(table), suite.np_columns(table.column)
        del table
    elif engine == "duckdb" and n <= numpy_max:  # no frame: the floor's columns one query each
        cur = store._conn.cursor()
        cols = suite.np_columns(lambda name: cur.sql(
            f"SELECT {name} FROM sessions WHERE app_id = $app", params={"app": meta["appid"]}).to_arrow_table().column(0))

    def inproc(q: suite.Query) -> dict:
        params, now = suite.api_params(q), service.request_now()
        if q.kind == "list":
            return service.list_sessions(store, settings, secret, meta["appid"], params, now)
        if q.kind == "users":
            return service.list_users(store, settings, meta["appid"], params, now)
        if q.kind == "events":
            return service.list_events(store, settings, meta["appid"], params, now)
        return analytics.session_analytics(store, settings, meta["appid"], params, now)

    rows: list[dict] = []
    extra: dict[str, Any] = {}
    app = create_app(settings, store=store)
    with ThreadServer(app) as server:
        client = Client(server.port, {"appid": meta["appid"], "apikey": meta["apikey"]})
        for q in suite.queries():
            path = {"list": "/v2/session", "users": "/v2/user", "events": "/v2/event",
                    "analytics": "/v2/session/analytics"}[q.kind]
            url = api_url(path, suite.api_params(q))
            modes: dict[str, Callable[[], Any]] = {
                "sql": lambda q=q: [run_sql(s, w) for s, w in zip(q.duck if engine == "duckdb" else q.ch,
                                                                      suite.sql_windows(q), strict=True)],
                "inproc": lambda q=q: inproc(q),
                "http": lambda url=url: client.get(url),
            }
            if frame is not None and q.polars:
                modes["polars"] = lambda q=q: q.polars(frame)
            if cols is not None and q.numpy:
                modes["numpy"] = lambda q=q: q.numpy(cols)
            check(q, modes["sql"](), modes["inproc"]())
            # floats may differ in the last digits: DuckDB sums in parallel, in no fixed order
            via_http, direct = orjson.loads(modes["http"]())["data"], modes["inproc"]()["data"]
            if q.kind != "analytics":
                key = {"list": "sessionId", "users": "uxcamUserId", "events": "eventId"}[q.kind]
                assert [d[key] for d in via_http] == [d[key] for d in direct], q.name
            else:
                assert suite.group_counts(via_http) == suite.group_counts(direct), q.name
            times: dict[str, list[float]] = {m: [] for m in modes}
            for _ in range(warmup):
                for fn in modes.values():
                    fn()
            for _ in range(repeat):
                for m, fn in modes.items():
                    t = time.perf_counter()
                    fn()
                    times[m].append(time.perf_counter() - t)
            stats = {m: summary(ts) for m, ts in times.items()}
            base = stats["sql"]["median_ms"]
            row = {"size": n, "engine": engine, "query": q.name, **{m: s for m, s in stats.items()},
                   "ratios": {m: s["median_ms"] / base for m, s in stats.items() if m != "sql"},
                   "http_minus_inproc_ms": stats["http"]["median_ms"] - stats["inproc"]["median_ms"],
                   "inproc_minus_sql_ms": stats["inproc"]["median_ms"] - base}
            rows.append(row)
            print(f"{n:>11,} {engine:6s} {q.name:40s} " + "  ".join(
                f"{m} {s['median_ms']:8.2f}" for m, s in stats.items()), flush=True)
        extra["http_overhead"] = http_overhead(server.port, store, settings, secret, meta)
        if engine == "duckdb":
            extra["serialise_50_rows_us"] = serialise_page(inproc(suite.queries()[0]))
            run_plain = lambda sql: store._conn.cursor().sql(sql).to_arrow_table()  # noqa: E731
        else:
            run_plain = lambda sql: store.query_arrow(sql, {})  # noqa: E731
        extra["clickbench"] = clickbench_run(engine, run_plain, n, repeat)
        extra["small_requests"] = throughput(server.port, meta)
        if hasattr(store, "results"):  # the embedded store's result cache, as `serve` has it by default
            store.results.max_entries = 256
            extra["small_requests_cached"] = throughput(server.port, meta)
            store.results.max_entries = 0
    extra["peak_rss_mib"] = peak_rss_mib()
    frame = cols = None  # noqa: F841 - frees the columns before the next engine loads its own
    store.close()
    return rows, extra


def http_overhead(port: int, store: Any, settings: Any, secret: bytes, meta: dict, rounds: int = 6) -> dict:
    """HTTP minus in-process on small requests (one day, one filter), where the query does not drown it.

    The HTTP side is timed by `rps_client.py` with one client, in its own process, as a real caller would
    be: a client thread inside this process shares the server's interpreter lock and adds http.client's
    header parsing (about 0.2 ms) to every answer. Rounds of in-process calls and of HTTP requests alternate,
    so drift of the shared machine falls on both sides; the figures are the medians over all rounds.
    """
    from sessionscope import analytics, service

    appid, out = meta["appid"], {}
    small_list = {**SMALL, "page_size": 50}
    cases = {
        "list": (lambda: service.list_sessions(store, settings, secret, appid, small_list, service.request_now()),
                 api_url("/v2/session", small_list)),
        "analytics": (lambda: analytics.session_analytics(store, settings, appid, SMALL, service.request_now()),
                      api_url("/v2/session/analytics", SMALL)),
    }
    for name, (direct, url) in cases.items():
        a, b = [], []
        for _ in range(rounds):
            for _ in range(40):
                t = time.perf_counter()
                direct()
                a.append(time.perf_counter() - t)
            b.append(latency_client(port, url, meta, clients=1, seconds=1.5)["p50_ms"] / 1000)
        out[name] = {"inproc_ms": statistics.median(a) * 1000, "http_ms": statistics.median(b) * 1000,
                     "delta_ms": (statistics.median(b) - statistics.median(a)) * 1000}
        print(f"small {name}: in-process {out[name]['inproc_ms']:.2f} ms, HTTP {out[name]['http_ms']:.2f} ms, "
              f"HTTP overhead {out[name]['delta_ms']:+.2f} ms", flush=True)
    return out


def serialise_page(page: dict) -> float:
    """Microseconds to encode a 50-session page to the response bytes (median of 2,000)."""
    from sessionscope.api.responses import JSON

    assert len(page["data"]) == 50
    ts = []
    for _ in range(2000):
        t = time.perf_counter()
        JSON(page).body  # noqa: B018 - the encoding is the work measured
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e6


def clickbench_run(engine: str, run: Callable[[str], Any], n: int, repeat: int) -> list[dict]:
    out = []
    for name, what, duck_sql, ch_sql in clickbench.QUERIES:
        sql = duck_sql if engine == "duckdb" else ch_sql
        run(sql)
        ts = []
        for _ in range(max(3, repeat // 2)):
            t = time.perf_counter()
            run(sql)
            ts.append(time.perf_counter() - t)
        s = summary(ts)
        out.append({"query": name, "what": what, **s, "mrows_per_s": n / (s["median_ms"] / 1000) / 1e6})
        print(f"{n:>11,} {engine:6s} ClickBench {name:4s} {what:48s} {s['median_ms']:8.1f} ms "
              f"{out[-1]['mrows_per_s']:8.1f} Mrows/s", flush=True)
    return out


SMALL = {"filters": [{"attribute": "date_range", "operator": "between_dates",
                      "value": {"lower": "2026-10-20T00:00:00Z", "upper": "2026-10-20T23:59:59Z"}},
                     {"attribute": "device_country", "operator": "equal", "value": "USA"}]}


def latency_client(port: int, url: str | list[str], meta: dict, clients: int, seconds: float) -> dict:
    """`rps_client.py` in its own process: `clients` keep-alive clients repeat one GET for `seconds` (with
    several URLs, client k repeats URL k mod their number)."""
    urls = [url] if isinstance(url, str) else url
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "rps_client.py"), str(port), *urls, "--clients", str(clients),
         "--seconds", str(seconds), "--header", f"appid={meta['appid']}", "--header", f"apikey={meta['apikey']}"],
        capture_output=True, text=True, check=True,
    )
    out = json.loads(proc.stdout)
    if out["errors"]:
        raise RuntimeError(f"{urls[0]}: {out['errors']} answers were not 200")
    return out


def throughput(port: int, meta: dict, clients: int = 32, seconds: float = 10) -> dict:
    """Requests per second of a small analytics request (one day, one filter) from `clients` clients."""
    out = latency_client(port, api_url("/v2/session/analytics", SMALL), meta, clients, seconds)
    print(f"small analytics request, {clients} clients: {out['per_second']:,.0f} req/s, p50 {out['p50_ms']:.1f} ms, "
          f"p95 {out['p95_ms']:.1f} ms, errors {out['errors']}", flush=True)
    return out


# --- ingestion -------------------------------------------------------------------------------
def measure_ingest(n: int, docs_per_size: int) -> dict:
    """HTTP batches of 100/1k/10k into a server holding n sessions while a reader lists sessions, then import.

    The three batch sizes are posted by 4 clients each; then batches of 100 once more by 16 clients, the way
    many SDKs send small batches at once, which the group commit writes together. The import reads the
    documents of the first three phases."""
    import gzip

    from analytics_bench import replicated

    from sessionscope.demo import generate_sessions
    from support.server import Server

    path, meta = replicated(n)
    out: dict[str, Any] = {"size": n}
    stamp = datetime.now(UTC).replace(microsecond=0)
    phases = ((100, 4), (1_000, 4), (10_000, 4), (100, 16))  # (sessions per batch, clients posting)
    all_docs = list(generate_sessions(docs_per_size * len(phases), days=30, seed=991, now=stamp))
    all_docs.sort(key=lambda d: d["property"]["uploadedServerTime"])  # SDKs upload sessions as they end
    # the reader measures query latency: with the result cache on, its idle requests would not run at all
    server = Server(data_dir=path.parent, store_url=f"duckdb:///{copy_store(path, 'ingest')}",
                    extra_env={"SESSIONSCOPE_RESULT_CACHE": "0"})
    server.start()
    read_url = api_url("/v2/session", {"filters": [{"attribute": "device_country", "operator": "equal", "value": "USA"}]})

    def reader(*limit: str) -> subprocess.Popen:
        """One client listing sessions in a process of its own (so the posting threads' interpreter lock
        is not in its latency), for the given `--seconds S` or `--until-file F`."""
        return subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "rps_client.py"), str(server.port), read_url, "--clients", "1",
             *limit, "--header", f"appid={meta['appid']}", "--header", f"apikey={meta['apikey']}"],
            stdout=subprocess.PIPE, text=True)

    def latencies(proc: subprocess.Popen) -> dict:
        out, _ = proc.communicate()
        got = json.loads(out)
        assert got["errors"] == 0, got
        return {"median_ms": got["p50_ms"], "p95_ms": got["p95_ms"], "p99_ms": got["p99_ms"], "max_ms": got["max_ms"],
                "n": got["requests"]}

    def alone(when: str) -> dict:
        got = latencies(reader("--seconds", "4"))
        print(f"reader alone, {when}: p50 {got['median_ms']:.1f} ms, p95 {got['p95_ms']:.1f} ms", flush=True)
        return got

    try:
        # The reader lists the default window (the last 30 days), where every ingested session lands: each
        # phase adds a tenth of the window's sessions or more, and its list takes longer for that alone (p95
        # 7.5 -> 20.7 ms over the three phases with no ingestion running). So a phase's p95 is set beside the
        # reader's p95 alone on the same data: measured before and after the phase, and their mean taken.
        idle = alone("before ingesting")
        out["reader_idle"] = idle
        headers = {"appid": meta["appid"], "X-Ingest-Key": meta["ingest_key"], "content-type": "application/json"}
        for k, (size, clients) in enumerate(phases):
            docs = all_docs[k * docs_per_size:(k + 1) * docs_per_size]
            bodies = [orjson.dumps(docs[i:i + size]) for i in range(0, len(docs), size)]

            def post(body: bytes, conns: dict[int, http.client.HTTPConnection] = {}) -> int:  # noqa: B006
                conn = conns.setdefault(threading.get_ident(), http.client.HTTPConnection("127.0.0.1", server.port, timeout=600))
                conn.request("POST", "/v2/ingest/sessions", body=body, headers=headers)
                r = conn.getresponse()
                answer = orjson.loads(r.read())
                assert r.status == 200, answer
                return answer["accepted"]

            phase = f"http_batch_{size}" + ("" if clients == 4 else f"_{clients}_clients")
            start_file, stop_file = (path.parent / f"reader-{what}-{os.getpid()}-{k}" for what in ("start", "stop"))
            reading = reader("--start-file", str(start_file), "--until-file", str(stop_file))
            time.sleep(0.5)  # the reader's process is up and connected
            start_file.touch()
            t = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                accepted = sum(pool.map(post, bodies))
            elapsed = time.perf_counter() - t
            stop_file.touch()
            busy = latencies(reading)
            start_file.unlink()
            stop_file.unlink()
            assert accepted == len(docs)
            before, idle = idle, alone(f"after the batches of {size:,} from {clients} clients")
            same_data = (before["p95_ms"] + idle["p95_ms"]) / 2
            out[phase] = {
                "per_second": accepted / elapsed, "clients": clients, "reader": busy,
                "reader_idle_before": before, "reader_idle_after": idle,
                "reader_p95_over_idle": busy["p95_ms"] / same_data,
                "reader_p95_over_idle_before": busy["p95_ms"] / before["p95_ms"],
            }
            print(f"HTTP ingest, batches of {size:>6,} ({clients} clients): {accepted / elapsed:8,.0f} sessions/s; "
                  f"reader p95 {busy['p95_ms']:.1f} ms ({busy['p95_ms'] / same_data:.2f}x alone on the same data, "
                  f"{busy['p95_ms'] / before['p95_ms']:.2f}x alone before), p99 {busy['p99_ms']:.1f}, "
                  f"slowest {busy['max_ms']:.0f}", flush=True)
        out["server_peak_rss_mib"] = rss_mb(server.proc.pid)  # type: ignore[union-attr]
    finally:
        server.stop()

    imported = all_docs[:3 * docs_per_size]
    file = path.parent / f"import-{len(imported)}.ndjson.gz"
    with gzip.open(file, "wb", compresslevel=1) as f:
        for d in imported:
            f.write(orjson.dumps(d) + b"\n")
    printed: list[str] = []

    def run_import(target: Path) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "sessionscope.cli", "import", str(file), "--app", meta["appid"], "--store",
             f"duckdb:///{target}"], capture_output=True, text=True, cwd=ROOT, check=True)
        printed.append(proc.stdout.strip().splitlines()[-1])

    # the median of a few runs, as for the baselines: one run of a few seconds varies by a third here
    out["import_runs_per_second"] = ingest_baselines.rates(path, "import", len(imported), run_import)
    out["import_per_second"] = statistics.median(out["import_runs_per_second"])
    print(f"sessionscope import of {len(imported):,} sessions: {out['import_per_second']:,.0f} sessions/s wall clock, "
          f"median of {ingest_baselines.RUNS} (process start included); last run: {printed[-1]}", flush=True)
    out["import_baselines"] = ingest_baselines.measure(path, file, meta["appid"], len(imported), out["import_per_second"])
    return out


# --- report ----------------------------------------------------------------------------------
MODES = ("sql", "inproc", "http", "polars", "numpy")


def keep_previous(name: str) -> dict[tuple, tuple[float, float]]:
    """The medians (baseline, HTTP) of the last run named `name`, by (size, engine, query); its files are moved
    to `name.previous.*`. An unnamed partial run (`suite-partial`, never kept) is set beside `suite.json`
    and moves nothing."""
    kept = name != "suite-partial"
    last = RESULTS / f"{name if kept else 'suite'}.json"
    if not last.exists():
        return {}
    old = json.loads(last.read_text())
    if kept:
        for ext in ("json", "md"):
            if (RESULTS / f"{name}.{ext}").exists():
                (RESULTS / f"{name}.{ext}").replace(RESULTS / f"{name}.previous.{ext}")
    return {(r["size"], r["engine"], r["query"]): (r["sql"]["median_ms"], r["http"]["median_ms"])
            for r in old.get("queries", [])}


def table(rows: list[dict], previous: dict[tuple, tuple[float, float]]) -> str:
    head = ("| size | engine | query | sql ms (p95) | inproc | http | polars | numpy | http-inproc ms | prev sql/http ms |\n"
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    for r in rows:
        cells = [f"{r['sql']['median_ms']:.1f} ({r['sql']['p95_ms']:.1f})"]
        for m in MODES[1:]:
            cells.append(f"{r[m]['median_ms']:.1f} ({r['ratios'][m]:.2f}x)" if m in r else "–")
        prev = previous.get((r["size"], r["engine"], r["query"]))
        lines.append(f"| {r['size']:,} | {r['engine']} | {r['query']} | " + " | ".join(cells)
                     + f" | {r['http_minus_inproc_ms']:+.2f} | " + (f"{prev[0]:.1f} / {prev[1]:.1f}" if prev else "–") + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--engines", default="duckdb,chdb")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs of each query and mode before the timed ones")
    ap.add_argument("--polars-max", type=int, default=10_000_000)
    ap.add_argument("--numpy-max", type=int, default=100_000_000,
                    help="largest size with the numpy floor (its columns take about 90 bytes a session)")
    ap.add_argument("--ingest-docs", type=int, default=30_000, help="documents per ingest batch size")
    ap.add_argument("--skip", default="", help="comma-separated: queries, ingest")
    ap.add_argument("--name", default="",
                    help="the result set: bench/results/NAME.json and .md, the previous run of the same name kept as "
                         "NAME.previous.* and shown beside it (default: suite, or suite-partial with --skip)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    skip = set(filter(None, args.skip.split(",")))

    result: dict[str, Any] = {"sizes": sizes, "repeat": args.repeat, "queries": [], "engines": {}}
    if "queries" not in skip:
        for n in sizes:
            for engine in args.engines.split(","):
                rows, extra = measure_queries(engine, n, args.repeat, args.polars_max, args.numpy_max, args.warmup)
                result["queries"] += rows
                result["engines"][f"{engine}-{n}"] = extra
    if "ingest" not in skip:
        result["ingest"] = measure_ingest(sizes[0], args.ingest_docs)

    name = args.name or ("suite-partial" if skip else "suite")
    report = table(result["queries"], keep_previous(name))
    print("\n" + report)
    for key, extra in result["engines"].items():
        over = extra["http_overhead"]
        print(f"{key}: HTTP overhead on small requests: list {over['list']['delta_ms']:+.2f} ms, "
              f"analytics {over['analytics']['delta_ms']:+.2f} ms")
        print(f"{key}: peak RSS of this process {extra['peak_rss_mib']:,.0f} MiB (Polars/numpy columns included)"
              + (f"; 50-row page serialised in {extra['serialise_50_rows_us']:.0f} µs" if "serialise_50_rows_us" in extra else "")
              + f"; small analytics request {extra['small_requests']['per_second']:,.0f} req/s at 32 clients"
              + (f" ({extra['small_requests_cached']['per_second']:,.0f} req/s with the result cache)"
                 if "small_requests_cached" in extra else ""))
    save(name, result)
    (RESULTS / f"{name}.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
