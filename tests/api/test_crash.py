"""Durability (SPEC §8.2): a server killed with SIGKILL loses no acknowledged session, and the batch in flight
at the kill is stored entirely or not at all."""

from __future__ import annotations

import copy
import json
import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb
import httpx

from sessionscope.demo import generate_sessions
from support.server import Creds, Server

NOW = datetime.now(UTC).replace(microsecond=0)
ALL_TIME = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": "2000-01-01", "upper": "2099-12-31"},
}
KILLS = 5
NEW_PER_BATCH = 150
RESENT_PER_BATCH = 50


@dataclass
class Batch:
    number: int
    docs: list[dict]

    @property
    def ids(self) -> list[str]:
        return [d["sessionId"] for d in self.docs]

    @property
    def new_ids(self) -> list[str]:
        return [d["sessionId"] for d in self.docs if d["sessionId"].startswith(f"b{self.number}-")]

    @property
    def marker(self) -> str:
        return f"batch-{self.number}"


@dataclass
class Ledger:
    """What the client knows: acknowledged batches, and the one in flight when the server died."""

    acked: list[Batch] = field(default_factory=list)
    in_flight: Batch | None = None
    errors: list[str] = field(default_factory=list)


class Producer:
    """Posts batches back to back until the server dies; records each acknowledgement as it arrives."""

    def __init__(
        self,
        server: Server,
        creds: Creds,
        pool: list[dict],
        counter: list[int],
        ledger: Ledger,
        rng: random.Random,
        kill_after_ack: int | None,
    ) -> None:
        self.server, self.creds, self.pool, self.counter, self.ledger = server, creds, pool, counter, ledger
        self.rng = rng
        self.kill_after_ack = kill_after_ack  # SIGKILL the server right after this many acknowledgements
        self.thread = threading.Thread(target=self.run, daemon=True)

    def next_batch(self) -> Batch:
        self.counter[0] += 1
        n = self.counter[0]
        marker = f"batch-{n}"
        docs = []
        for i in range(NEW_PER_BATCH):
            d = copy.deepcopy(self.pool[(n * NEW_PER_BATCH + i) % len(self.pool)])
            d["sessionId"] = f"b{n}-{i}"
            d["property"]["networkType"] = marker
            docs.append(d)
        # re-send some acknowledged sessions with a new value: a crash mid-update must not duplicate them
        acked_ids = [sid for b in self.ledger.acked for sid in b.new_ids]
        for sid in self.rng.sample(acked_ids, min(RESENT_PER_BATCH, len(acked_ids))):
            d = copy.deepcopy(self.pool[int(sid.split("-")[1]) % len(self.pool)])
            d["sessionId"] = sid
            d["property"]["networkType"] = marker
            docs.append(d)
        return Batch(n, docs)

    def run(self) -> None:
        acks = 0
        with httpx.Client(base_url=self.server.base_url, timeout=30) as client:
            while True:
                batch = self.next_batch()
                self.ledger.in_flight = batch
                try:
                    r = client.post("/v2/ingest/sessions", json=batch.docs, headers=self.creds.ingest_headers)
                except httpx.HTTPError:
                    return  # the server died with this batch in flight
                if r.status_code != 200 or r.json().get("accepted") != len(batch.docs):
                    self.ledger.errors.append(f"batch {batch.number}: {r.status_code} {r.text[:300]}")
                    return
                self.ledger.acked.append(batch)
                self.ledger.in_flight = None
                acks += 1
                if self.kill_after_ack is not None and acks >= self.kill_after_ack:
                    assert self.server.proc is not None
                    os.kill(self.server.proc.pid, signal.SIGKILL)  # right after the answer arrived
                    return


def present(client: httpx.Client, creds: Creds, ids: list[str]) -> dict[str, str]:
    """sessionId -> networkType of those of `ids` that the store has."""
    out: dict[str, str] = {}
    for i in range(0, len(ids), 400):
        flt = [ALL_TIME, {"attribute": "session_id", "operator": "in", "value": ids[i : i + 400]}]
        r = client.get(
            "/v2/session", params={"filters": json.dumps(flt), "page_size": 500}, headers=creds.read_headers
        )
        assert r.status_code == 200, r.text
        for row in r.json()["data"]:
            assert row["sessionId"] not in out, f"{row['sessionId']} listed twice"
            out[row["sessionId"]] = row["property"]["networkType"]
    return out


def test_sigkill_loses_no_acknowledged_session(fresh_server: Server) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    creds = fresh_server.create_app("crash")
    pool = list(generate_sessions(600, days=20, seed=5, now=NOW - timedelta(minutes=1)))
    ledger = Ledger()
    counter = [0]
    deadline = time.monotonic() + 50
    committed_in_flight: list[int] = []

    for cycle in range(KILLS):
        assert time.monotonic() < deadline, f"over time budget (seed {seed})"
        fresh_server.start()
        with fresh_server.client() as client:
            if ledger.in_flight is not None:
                # the batch in flight at the previous kill: all of it or none of it (seen by a fresh process)
                batch = ledger.in_flight
                got = present(client, creds, batch.new_ids)
                assert len(got) in (0, len(batch.new_ids)), (
                    f"partial batch {batch.number}: {len(got)} (seed {seed})"
                )
                resent = present(client, creds, [s for s in batch.ids if s not in set(batch.new_ids)])
                markers = {resent[s] == batch.marker for s in resent}
                assert markers <= {len(got) > 0}, (
                    f"re-sent sessions of batch {batch.number} half-updated (seed {seed})"
                )
                if got:
                    committed_in_flight.append(batch.number)
                # the client retries it, as a client should
                r = client.post("/v2/ingest/sessions", json=batch.docs, headers=creds.ingest_headers)
                assert r.status_code == 200 and r.json()["accepted"] == len(batch.docs), r.text
                ledger.acked.append(batch)
                ledger.in_flight = None

        # alternate: a kill at a random moment, and a kill right after an acknowledgement
        after_ack = rng.randint(1, 6) if cycle % 2 else None
        producer = Producer(fresh_server, creds, pool, counter, ledger, rng, after_ack)
        producer.thread.start()
        if after_ack is None:
            time.sleep(rng.uniform(0.3, 1.5))
            fresh_server.stop(kill=True)
            producer.thread.join(30)
        else:
            producer.thread.join(30)
            fresh_server.stop(kill=True)  # reaps the process the producer killed
        assert not producer.thread.is_alive()
        assert not ledger.errors, ledger.errors
        if after_ack is not None:
            assert ledger.in_flight is None

    # final check through the API, then on the file itself
    expected: dict[str, str] = {}
    for batch in ledger.acked:  # acknowledgement order: the last acknowledged write of a session wins
        for sid in batch.ids:
            expected[sid] = batch.marker
    fresh_server.start()
    with fresh_server.client() as client:
        if ledger.in_flight is not None:
            got = present(client, creds, ledger.in_flight.new_ids)
            assert len(got) in (0, len(ledger.in_flight.new_ids)), f"partial last batch (seed {seed})"
            if got:  # committed before the kill: its values are the latest
                for sid in ledger.in_flight.ids:
                    expected[sid] = ledger.in_flight.marker
        seen = present(client, creds, sorted(expected))
        missing = set(expected) - set(seen)
        assert not missing, (
            f"{len(missing)} acknowledged sessions lost, e.g. {sorted(missing)[:5]} (seed {seed})"
        )
        stale = {s for s in expected if seen[s] != expected[s]}
        assert not stale, f"{len(stale)} sessions lost their last acknowledged update (seed {seed})"
    fresh_server.stop()

    print(
        f"seed {seed}: {len(ledger.acked)} batches acknowledged, {len(expected)} sessions, in-flight committed: {committed_in_flight}"
    )
    assert len(ledger.acked) >= KILLS, "too few batches acknowledged for a meaningful test"
    con = duckdb.connect(fresh_server.store_url.removeprefix("duckdb:///"), read_only=True)
    try:
        rows = con.execute(
            "SELECT session_id, count(*), any_value(network_type) FROM sessions WHERE app_id = ? GROUP BY 1",
            [creds.appid],
        ).fetchall()
        event_dupes = con.execute(
            "SELECT count(*) FROM (SELECT session_id, seq FROM events WHERE app_id = ? GROUP BY 1, 2 HAVING count(*) > 1)",
            [creds.appid],
        ).fetchone()
    finally:
        con.close()
    counts = {r[0]: r[1] for r in rows}
    assert all(n == 1 for n in counts.values()), "a session is stored more than once"
    # `expected` holds the last in-flight batch exactly when the API saw it committed, so the file must match it
    assert set(counts) == set(expected), f"unexpected or missing sessions (seed {seed})"
    assert {r[0]: r[2] for r in rows if r[0] in expected} == expected
    assert event_dupes == (0,)


def test_restart_after_kill_keeps_serving(fresh_server: Server) -> None:
    """A kill between requests leaves a store that opens, reads and writes normally."""
    creds = fresh_server.create_app("restart")
    docs = list(generate_sessions(50, days=3, seed=6, now=NOW))
    fresh_server.start()
    with fresh_server.client() as client:
        r = client.post("/v2/ingest/sessions", json=docs, headers=creds.ingest_headers)
        assert r.json()["accepted"] == 50
    fresh_server.stop(kill=True)
    fresh_server.start()
    with fresh_server.client() as client:
        assert len(present(client, creds, [d["sessionId"] for d in docs])) == 50
        more = list(generate_sessions(10, days=3, seed=9, now=NOW))
        assert (
            client.post("/v2/ingest/sessions", json=more, headers=creds.ingest_headers).json()["accepted"]
            == 10
        )
        assert len(present(client, creds, [d["sessionId"] for d in docs + more])) == 60
