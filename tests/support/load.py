"""A load generator for a running server: virtual clients (one connection each) reading and ingesting at once.

Used by bench/load_bench.py (figures) and tests/api/test_concurrency.py (a bounded run). Every ingest batch
carries a marker in `device.appVersion` on exactly BATCH sessions; readers check that a marker always counts
0 or BATCH sessions, never a part of a batch (a torn read).
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
import orjson

from support.server import Creds, Server

ALL_TIME = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": "2000-01-01", "upper": "2099-12-31"},
}
MARKER_FILTER = {"attribute": "app_version", "operator": "contains", "value": "lb-"}
BATCH = 40
# kind -> weight in the mix
MIX = {"list": 40, "list_marker": 10, "analytics": 25, "analytics_marker": 10, "ingest": 15}


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    errors: list[str] = field(default_factory=list)
    torn: list[str] = field(default_factory=list)
    torn_checks: int = 0
    retry_after_missing: int = 0
    markers: set[str] = field(default_factory=set)  # markers of batches sent (acknowledged or not)
    resends: int = 0


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000 if s else float("nan")


def summarise(samples: list[float]) -> dict:
    return {
        "n": len(samples),
        "p50_ms": round(pct(samples, 0.50), 2),
        "p99_ms": round(pct(samples, 0.99), 2),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2) if samples else None,
    }


class Client:
    """One virtual client: its own connection, its own batches, a share of the mix."""

    def __init__(self, n: int, base_url: str, creds: Creds, pool: list[dict], tally: Tally, seed: int) -> None:
        self.n, self.creds, self.pool, self.tally = n, creds, pool, tally
        self.rng = random.Random(seed)
        self.http = httpx.AsyncClient(base_url=base_url, timeout=120, limits=httpx.Limits(max_connections=1))
        self.sent: list[list[dict]] = []
        self.count = 0

    async def close(self) -> None:
        await self.http.aclose()

    def new_batch(self) -> list[dict]:
        self.count += 1
        marker = f"lb-{self.n}-{self.count}"
        docs = []
        for i in range(BATCH):
            d = dict(self.rng.choice(self.pool))
            d["sessionId"] = f"{marker}-{i}"
            d["device"] = {**d["device"], "appVersion": marker}
            docs.append(d)
        self.sent.append(docs)
        self.tally.markers.add(marker)
        return docs

    def request(self, kind: str) -> tuple[str, str, dict, bytes | None]:
        r = self.rng
        read = self.creds.read_headers
        if kind == "list":
            flt = [ALL_TIME]
            if r.random() < 0.5:
                flt.append({"attribute": "device_platform", "operator": "equal", "value": r.choice(["ios", "android"])})
            if r.random() < 0.3:
                flt.append({"attribute": "session_duration", "operator": "greater", "value": r.randint(0, 300)})
            params = {"filters": json.dumps(flt), "page": r.randint(1, 5), "page_size": r.choice([20, 50, 100])}
            return "GET", "/v2/session", {"params": params, "headers": read}, None
        if kind == "list_marker":
            markers = r.sample(sorted(self.tally.markers), min(5, len(self.tally.markers))) or ["lb-none"]
            flt = [ALL_TIME, {"attribute": "app_version", "operator": "in", "value": markers}]
            return "GET", "/v2/session", {"params": {"filters": json.dumps(flt), "page_size": 500}, "headers": read}, None
        if kind == "analytics":
            params: dict = {"filters": json.dumps([ALL_TIME])}
            choice = r.randrange(3)
            if choice == 1:
                params["group_by"] = json.dumps([{"attribute": "device_model", "max_group_number": 20}])
            elif choice == 2:
                params = {"group_by": json.dumps([{"attribute": "session_uploadedon_day"}])}
            return "GET", "/v2/session/analytics", {"params": params, "headers": read}, None
        if kind == "analytics_marker":
            params = {
                "filters": json.dumps([ALL_TIME, MARKER_FILTER]),
                "group_by": json.dumps([{"attribute": "app_version", "max_group_number": 1000}]),
                "aggregation": json.dumps([{"attribute": "session_count", "operator": ""}]),
                "page_size": 500,
            }
            return "GET", "/v2/session/analytics", {"params": params, "headers": read}, None
        # ingest: a new batch, or now and then a re-send of one of this client's earlier batches (a replace)
        if self.sent and r.random() < 0.25:
            docs = self.rng.choice(self.sent)
            self.tally.resends += 1
        else:
            docs = self.new_batch()
        headers = {**self.creds.ingest_headers, "content-type": "application/json"}
        return "POST", "/v2/ingest/sessions", {"headers": headers}, orjson.dumps(docs)

    def check(self, kind: str, body: dict) -> None:
        """A marker never counts a part of its batch."""
        if kind == "list_marker":
            counts: dict[str, int] = defaultdict(int)
            for row in body["data"]:
                counts[row["device"]["appVersion"]] += 1
            self.tally.torn_checks += len(counts)
            self.tally.torn += [f"list {m}: {c}" for m, c in counts.items() if c != BATCH]
        elif kind == "analytics_marker":
            for row in body["data"]:
                self.tally.torn_checks += 1
                c = row["session_count"]
                if row.get("app_version") == "others" and c % BATCH == 0:
                    continue
                if c != BATCH:
                    self.tally.torn.append(f"analytics {row.get('app_version')}: {c}")
        elif kind == "ingest" and body.get("accepted") != BATCH:
            self.tally.errors.append(f"ingest accepted {body.get('accepted')}: {body.get('rejected')}")

    async def run(self, until: float) -> None:
        kinds, weights = list(MIX), list(MIX.values())
        while time.perf_counter() < until:
            kind = self.rng.choices(kinds, weights)[0]
            method, path, kw, content = self.request(kind)
            t = time.perf_counter()
            try:
                resp = await self.http.request(method, path, content=content, **kw)
            except httpx.HTTPError as exc:
                self.tally.errors.append(f"{kind}: {type(exc).__name__} {exc}")
                continue
            elapsed = time.perf_counter() - t
            self.tally.statuses[resp.status_code] += 1
            if resp.status_code == 429:
                if not resp.headers.get("retry-after"):
                    self.tally.retry_after_missing += 1
                await asyncio.sleep(min(float(resp.headers.get("retry-after") or 1), 1.0) * self.rng.random())
                continue
            if resp.status_code != 200:
                self.tally.errors.append(f"{kind}: {resp.status_code} {resp.text[:200]}")
                continue
            self.tally.latencies[kind].append(elapsed)
            self.check(kind, resp.json())


async def run_scenario(server: Server, creds: Creds, pool: list[dict], clients: int, seconds: float, seed: int) -> dict:
    tally = Tally()
    # markers of earlier scenarios are complete batches too; seed the readers with some of them
    vclients = [Client(i, server.base_url, creds, pool, tally, seed * 1000 + i) for i in range(clients)]
    for c in vclients:
        c.count = seed * 100_000  # markers unique across scenarios
    start = time.perf_counter()
    until = start + seconds
    await asyncio.gather(*(c.run(until) for c in vclients))
    wall = time.perf_counter() - start
    for c in vclients:
        await c.close()
    all_lat = [x for v in tally.latencies.values() for x in v]
    reads = [x for k, v in tally.latencies.items() if k != "ingest" for x in v]
    requests = sum(tally.statuses.values()) + sum(1 for e in tally.errors if ": " in e and "Error" in e)
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": requests,
        "ok_requests": len(all_lat),
        "statuses": dict(sorted(tally.statuses.items())),
        "errors": len(tally.errors),
        "error_examples": tally.errors[:5],
        "torn_checks": tally.torn_checks,
        "torn_results": len(tally.torn),
        "torn_examples": tally.torn[:5],
        "rate_limited_429": tally.statuses.get(429, 0),
        "429_without_retry_after": tally.retry_after_missing,
        "throughput_rps": round(len(all_lat) / wall, 1),
        "batches": len(tally.markers),
        "resends": tally.resends,
        "sessions_ingested_per_s": round(len(tally.latencies["ingest"]) * BATCH / wall, 1),
        "latency": {
            "all": summarise(all_lat),
            "reads": summarise(reads),
            **{k: summarise(v) for k, v in sorted(tally.latencies.items())},
        },
    }
