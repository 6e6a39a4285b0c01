"""The known-id filter never forgets an id it was given, and rarely claims one it was not."""

import threading
import time
from datetime import datetime

import numpy as np

from sessionscope.ingest import Limits, normalise_batch
from sessionscope.store.duckdb import DuckDBStore
from sessionscope.store.known_ids import KnownIds

APP, NOW = "ab" * 12, datetime(2026, 1, 1)


def write(store: DuckDBStore, sid_city: list[tuple[str, str]]) -> None:
    docs = [{"sessionId": sid, "property": {"uploadedServerTime": "2026-01-01T00:00:00Z"},
             "user": {"uxcamuserid": f"u{sid}"}, "location": {"city": city}} for sid, city in sid_city]
    b = normalise_batch(APP, docs, now=NOW, limits=Limits())
    assert not b.rejected, b.rejected[:1]
    store.write_sessions(APP, b.sessions, b.events)


def test_no_false_negatives_and_no_false_positives():
    rng = np.random.default_rng(3)
    stored = rng.integers(0, 2**63, size=50_000, dtype=np.uint64)
    known = KnownIds(stored[:20_000])
    for start in range(20_000, 50_000, 700):  # writes of 700 ids: runs are added and merged
        known.add(stored[start:start + 700])
        assert known.maybe(stored[:start + 700]).all()
    assert known.count == 50_000 and known.runs <= 16  # about log2(50_000 / 700) runs at most
    fresh = np.setdiff1d(rng.integers(0, 2**63, size=200_000, dtype=np.uint64), stored)
    assert not known.maybe(fresh).any()  # exact: only a 64-bit hash collision could answer "maybe"
    # order and repeats do not matter
    known.add(stored[:10])
    shuffled = rng.permutation(np.concatenate([stored[:500], fresh[:500]]))
    assert (known.maybe(shuffled) == np.isin(shuffled, stored)).all()


def test_hashes_as_duckdb_returns_them():
    # DuckDB's hash() comes back as uint64; the set also takes int64 views and lists of them
    known = KnownIds(np.array([2**64 - 1, 5], dtype=np.uint64))
    assert known.maybe(np.array([2**64 - 1, 5, 6], dtype=np.uint64)).tolist() == [True, True, False]
    assert known.maybe(np.array([-1], dtype=np.int64)).tolist() == [True]


def test_empty_filter_says_nothing_is_stored():
    known = KnownIds(np.zeros(0, dtype=np.uint64))
    assert not known.maybe(np.array([1, 2, 3], dtype=np.uint64)).any()
    assert known.maybe(np.zeros(0, dtype=np.uint64)).shape == (0,)


def test_a_reopened_store_still_replaces_sessions_written_before(tmp_path):
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    write(store, [(f"s{i}", "Paris") for i in range(3000)])
    store.close()
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    write(store, [("s5", "Lyon"), ("new", "Nice")])  # the filter is built from the table on this write
    write(store, [("new", "Rome")])  # and holds the ids this process wrote
    got = dict(store.query("SELECT session_id, city FROM sessions WHERE session_id IN ('s5', 'new', 's6')", []))
    assert got == {"s5": "Lyon", "new": "Rome", "s6": "Paris"}
    assert store.query("SELECT count(*) FROM sessions", []) == [(3001,)]


def test_writes_while_the_filter_is_built_are_neither_missed_nor_duplicated(tmp_path):
    """The filter is built in a thread: writes meanwhile look every id up, and their ids reach the filter."""
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    gate, started = threading.Event(), threading.Event()

    def slow_build(hashes):
        started.set()
        assert gate.wait(30)
        return KnownIds(hashes)

    store._build_known = slow_build
    write(store, [("a", "Paris"), ("b", "Paris")])  # starts the build (of an empty table), held at the gate
    assert started.wait(30) and store._known.get(APP) is None
    write(store, [("b", "Lyon"), ("c", "Paris")])  # no filter yet: "b" is found by looking it up
    write(store, [("c", "Nice")])
    gate.set()
    for _ in range(1000):  # the thread installs the filter under the write lock
        if store._known.get(APP) is not None:
            break
        time.sleep(0.01)
    known = store._known[APP]
    assert APP not in store._pending
    # the filter holds every id written while it was built, so re-sending them still replaces
    ids = ["a", "b", "c"]
    hashes = next(iter(store._conn.execute("SELECT hash(x) FROM unnest($1::VARCHAR[]) t(x)", [ids]).fetchnumpy().values()))
    assert known.maybe(hashes).all()
    write(store, [("a", "Rome"), ("c", "Oslo")])
    got = store.query("SELECT session_id, city FROM sessions ORDER BY session_id", [])
    assert got == [("a", "Rome"), ("b", "Lyon"), ("c", "Oslo")]
    store.close()
