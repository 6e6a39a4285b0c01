"""Crash soak: ingest continuously while the server is SIGKILLed at random moments, restart, and account for
every session.

Each cycle starts `sessionscope serve` on the same DuckDB file, runs P producers that post batches back to back
(new sessions plus re-sends of their own acknowledged ones with a new value), then kills the server with SIGKILL,
in turn: at a random moment; right after a producer received an acknowledgement; and late in a request's usual
processing time (while its batch is written, or committed but not yet answered).
After each restart the batches that were in flight are checked (all of a batch or none of it) and retried, as a
client would. At the end every acknowledged session must be stored exactly once with its last acknowledged
value, checked through the API and then on the file itself.

Usage: python bench/crash_soak.py [--kills 25] [--producers 2] [--seed S]
Prints the figures and writes bench/results/crash_soak.json; exits 1 if anything was lost or torn.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from sessionscope.demo import generate_sessions  # noqa: E402
from support.server import Creds, Server  # noqa: E402

ALL_TIME = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": "2000-01-01", "upper": "2099-12-31"},
}
NEW_PER_BATCH = 120
RESENT_PER_BATCH = 40


@dataclass
class Batch:
    producer: int
    number: int
    docs: list[dict]

    @property
    def ids(self) -> list[str]:
        return [d["sessionId"] for d in self.docs]

    @property
    def new_ids(self) -> list[str]:
        return [d["sessionId"] for d in self.docs if d["sessionId"].startswith(self.prefix)]

    @property
    def prefix(self) -> str:
        return f"p{self.producer}b{self.number}-"

    @property
    def marker(self) -> str:
        return f"p{self.producer}-batch-{self.number}"


@dataclass
class Ledger:
    """What one producer knows: the batches acknowledged to it, in order, and the one in flight."""

    producer: int
    acked: list[Batch] = field(default_factory=list)
    in_flight: Batch | None = None
    errors: list[str] = field(default_factory=list)
    counter: int = 0


@dataclass
class Stats:
    kills: int = 0
    kills_at_random: int = 0
    kills_after_ack: int = 0
    kills_late_in_request: int = 0
    latencies: list[float] = field(default_factory=list)
    batches_acked: int = 0
    in_flight_at_kill: int = 0
    in_flight_committed: int = 0
    in_flight_absent: int = 0
    torn_batches: int = 0
    requests: int = 0
    restart_seconds: list[float] = field(default_factory=list)


def next_batch(ledger: Ledger, pool: list[dict], rng: random.Random) -> Batch:
    ledger.counter += 1
    n, p = ledger.counter, ledger.producer
    b = Batch(p, n, [])
    for i in range(NEW_PER_BATCH):
        d = copy.deepcopy(pool[(n * NEW_PER_BATCH + i + p * 7919) % len(pool)])
        d["sessionId"] = f"{b.prefix}{i}"
        d["property"]["networkType"] = b.marker
        b.docs.append(d)
    acked_ids = [sid for x in ledger.acked[-50:] for sid in x.new_ids]
    for sid in rng.sample(acked_ids, min(RESENT_PER_BATCH, len(acked_ids))):
        d = copy.deepcopy(pool[int(sid.rsplit("-", 1)[1]) % len(pool)])
        d["sessionId"] = sid
        d["property"]["networkType"] = b.marker
        b.docs.append(d)
    return b


def produce(
    server: Server,
    creds: Creds,
    pool: list[dict],
    ledger: Ledger,
    rng: random.Random,
    stats: Stats,
    lock: threading.Lock,
    kill: tuple[str, int] | None,
) -> None:
    """Post batches until the server dies. `kill` = ("after_ack", n): SIGKILL the server right after the n-th
    acknowledgement; ("late", n): during the n-th request, late in its usual processing time, when the
    batch is being written or was just committed but not yet answered."""
    acks = 0
    mode, n = kill if kill is not None else ("", 0)

    def sigkill() -> None:
        proc = server.proc
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)

    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        while True:
            batch = next_batch(ledger, pool, rng)
            ledger.in_flight = batch
            timer = None
            if mode == "late" and acks + 1 >= n:
                typical = statistics.median(stats.latencies[-50:]) if stats.latencies else 0.2
                timer = threading.Timer(typical * rng.uniform(0.6, 1.1), sigkill)
            try:
                with lock:
                    stats.requests += 1
                t = time.perf_counter()
                if timer is not None:
                    timer.start()
                r = client.post("/v2/ingest/sessions", json=batch.docs, headers=creds.ingest_headers)
            except httpx.HTTPError:
                return  # the server died with this batch in flight
            finally:
                if timer is not None:
                    timer.cancel()
            with lock:
                stats.latencies.append(time.perf_counter() - t)
            if r.status_code != 200 or r.json().get("accepted") != len(batch.docs):
                ledger.errors.append(f"batch {batch.marker}: {r.status_code} {r.text[:300]}")
                return
            ledger.acked.append(batch)
            ledger.in_flight = None
            acks += 1
            if mode == "after_ack" and acks >= n:
                sigkill()  # right after the answer arrived
                return
            if mode == "late" and acks >= n + 5:
                sigkill()  # the late kill kept missing (the answer came first): kill now
                return


def present(client: httpx.Client, creds: Creds, ids: list[str]) -> dict[str, str]:
    """sessionId -> networkType for those of `ids` the store has (through the API); a repeat is an error."""
    out: dict[str, str] = {}
    for i in range(0, len(ids), 400):
        flt = [ALL_TIME, {"attribute": "session_id", "operator": "in", "value": ids[i : i + 400]}]
        r = client.get(
            "/v2/session", params={"filters": json.dumps(flt), "page_size": 500}, headers=creds.read_headers
        )
        r.raise_for_status()
        for row in r.json()["data"]:
            if row["sessionId"] in out:
                raise AssertionError(f"{row['sessionId']} listed twice")
            out[row["sessionId"]] = row["property"]["networkType"]
    return out


def settle_in_flight(client: httpx.Client, creds: Creds, ledger: Ledger, stats: Stats) -> None:
    """The batch that was in flight at the kill: all of it or none of it; then the client retries it."""
    batch = ledger.in_flight
    if batch is None:
        return
    stats.in_flight_at_kill += 1
    new = batch.new_ids
    got = present(client, creds, new)
    resent = [s for s in batch.ids if s not in set(new)]
    resent_got = present(client, creds, resent)
    committed = len(got) == len(new)
    updated = {resent_got.get(s) == batch.marker for s in resent}
    if len(got) not in (0, len(new)) or (updated and updated != {committed}):
        stats.torn_batches += 1
        print(f"  TORN batch {batch.marker}: {len(got)}/{len(new)} new sessions, resent updated {updated}")
    if committed:
        stats.in_flight_committed += 1
    else:
        stats.in_flight_absent += 1
    r = client.post("/v2/ingest/sessions", json=batch.docs, headers=creds.ingest_headers)
    stats.requests += 1
    if r.status_code != 200 or r.json()["accepted"] != len(batch.docs):
        raise AssertionError(f"retry of {batch.marker} failed: {r.status_code} {r.text[:300]}")
    ledger.acked.append(batch)
    ledger.in_flight = None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=25)
    ap.add_argument("--producers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the store directory")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    pool = list(generate_sessions(2_000, days=20, seed=5, now=now))

    tmp = Path(tempfile.mkdtemp(prefix="crash-soak-"))
    server = Server(data_dir=tmp, store_url=f"duckdb:///{tmp / 'soak.duckdb'}")
    creds = server.create_app("soak")
    ledgers = [Ledger(p) for p in range(args.producers)]
    stats = Stats()
    lock = threading.Lock()
    started = time.monotonic()
    print(f"crash soak: seed {seed}, {args.kills} kills, {args.producers} producers, store {tmp}")

    for cycle in range(args.kills):
        t = time.monotonic()
        server.start()
        stats.restart_seconds.append(time.monotonic() - t)
        with server.client() as client:
            for ledger in ledgers:
                settle_in_flight(client, creds, ledger, stats)
        mode = ("random", "after_ack", "late")[cycle % 3]
        kill = None if mode == "random" else (mode, rng.randint(1, 8))
        threads = [
            threading.Thread(
                target=produce,
                args=(server, creds, pool, ledger, random.Random(rng.random()), stats, lock,
                      kill if i == 0 else None),
                daemon=True,
            )
            for i, ledger in enumerate(ledgers)
        ]
        for th in threads:
            th.start()
        if mode == "random":
            time.sleep(rng.uniform(0.2, 2.5))
            server.stop(kill=True)
            stats.kills_at_random += 1
        else:
            threads[0].join(60)
            server.stop(kill=True)  # reaps the process the producer killed (or kills it, if it was slow)
            if mode == "after_ack":
                stats.kills_after_ack += 1
            else:
                stats.kills_late_in_request += 1
        stats.kills += 1
        for th in threads:
            th.join(60)
            if th.is_alive():
                raise AssertionError("a producer did not stop after the kill")
        errors = [e for ledger in ledgers for e in ledger.errors]
        if errors:
            raise AssertionError(f"ingest errors before the kill: {errors}")
        acked = sum(len(x.acked) for x in ledgers)
        print(f"  kill {cycle + 1:>3}: {mode:<9}  batches acknowledged so far {acked}")

    # final accounting, through the API
    server.start()
    expected: dict[str, str] = {}
    in_flight_new: set[str] = set()
    with server.client() as client:
        for ledger in ledgers:
            for batch in ledger.acked:  # each producer re-sends only its own sessions: its order decides
                for sid in batch.ids:
                    expected[sid] = batch.marker
            if ledger.in_flight is not None:  # never retried: all or none, and then it is the latest value
                batch = ledger.in_flight
                stats.in_flight_at_kill += 1
                got = present(client, creds, batch.new_ids)
                if len(got) not in (0, len(batch.new_ids)):
                    stats.torn_batches += 1
                if got:
                    stats.in_flight_committed += 1
                    for sid in batch.ids:
                        expected[sid] = batch.marker
                else:
                    stats.in_flight_absent += 1
                    in_flight_new |= set(batch.new_ids)
        seen = present(client, creds, sorted(expected))
    server.stop()
    missing = sorted(set(expected) - set(seen))
    stale = sorted(s for s in seen if seen[s] != expected[s])

    # and on the file itself: no duplicates, no strays, no duplicated events
    con = duckdb.connect(server.store_url.removeprefix("duckdb:///"), read_only=True)
    try:
        rows = con.execute(
            "SELECT session_id, count(*), any_value(network_type) FROM sessions WHERE app_id = ? GROUP BY 1",
            [creds.appid],
        ).fetchall()
        event_dupes = con.execute(
            "SELECT count(*) FROM (SELECT session_id, seq FROM events WHERE app_id = ? "
            "GROUP BY 1, 2 HAVING count(*) > 1)",
            [creds.appid],
        ).fetchall()[0][0]
        orphan_events = con.execute(
            "SELECT count(*) FROM events e WHERE app_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM sessions s WHERE s.app_id = e.app_id AND s.session_id = e.session_id)",
            [creds.appid],
        ).fetchall()[0][0]
    finally:
        con.close()
    duplicated = sorted(r[0] for r in rows if r[1] > 1)
    strays = sorted(set(r[0] for r in rows) - set(expected) - in_flight_new)

    stats.batches_acked = sum(len(x.acked) for x in ledgers)
    result = {
        "seed": seed,
        "producers": args.producers,
        "kills": stats.kills,
        "kills_at_random_moment": stats.kills_at_random,
        "kills_right_after_ack": stats.kills_after_ack,
        "kills_late_in_a_request": stats.kills_late_in_request,
        "ingest_requests": stats.requests,
        "batches_acknowledged": stats.batches_acked,
        "sessions_acknowledged": len(expected),
        "session_writes_acknowledged": sum(len(b.docs) for x in ledgers for b in x.acked),
        "batches_in_flight_at_kill": stats.in_flight_at_kill,
        "in_flight_found_committed": stats.in_flight_committed,
        "in_flight_found_absent": stats.in_flight_absent,
        "torn_batches": stats.torn_batches,
        "sessions_lost": len(missing),
        "sessions_with_stale_value": len(stale),
        "sessions_duplicated": len(duplicated),
        "stray_sessions": len(strays),
        "duplicated_events": event_dupes,
        "orphan_events": orphan_events,
        "restart_seconds_median": round(sorted(stats.restart_seconds)[len(stats.restart_seconds) // 2], 2),
        "restart_seconds_max": round(max(stats.restart_seconds), 2),
        "store_bytes_at_end": {p.name: p.stat().st_size for p in tmp.glob("soak.duckdb*")},
        "wall_seconds": round(time.monotonic() - started, 1),
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    ok = not (missing or stale or duplicated or strays or event_dupes or orphan_events or stats.torn_batches)
    result["ok"] = ok
    print(json.dumps(result, indent=2))
    if missing:
        print("lost, e.g.:", missing[:10])
    out = ROOT / "bench" / "results" / "crash_soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
