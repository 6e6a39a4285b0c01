"""The known-id filter never forgets an id it was given, and rarely claims one it was not."""

import threading
import time
from datetime import datetime

import numpy as np
import pytest

from sessionscope.ingest import Limits, normalise_batch
from sessionscope.store.duckdb import DuckDBStore
from sessionscope.store.known_ids import MAX_MINUTE, KnownIds, upload_minutes

APP, NOW = "ab" * 12, datetime(2026, 1, 1)


def write(store: DuckDBStore, sid_city: list[tuple[str, str]]) -> None:
    docs = [{"sessionId": sid, "property": {"uploadedServerTime": "2026-01-01T00:00:00Z"},
             "user": {"uxcamuserid": f"u{sid}"}, "location": {"city": city}} for sid, city in sid_city]
    b = normalise_batch(APP, docs, now=NOW, limits=Limits())
    assert not b.rejected, b.rejected[:1]
    store.write_sessions(APP, b.sessions, b.events)


def minutes_of(hashes: np.ndarray) -> np.ndarray:
    """A made-up upload minute per hash, for tests that only look at membership."""
    return (np.asarray(hashes, dtype=np.uint64) % np.uint64(1000)).astype(np.uint32)


def test_no_false_negatives_and_no_false_positives():
    rng = np.random.default_rng(3)
    stored = rng.integers(0, 2**63, size=50_000, dtype=np.uint64)
    known = KnownIds(stored[:20_000], minutes_of(stored[:20_000]))
    for start in range(20_000, 50_000, 700):  # writes of 700 ids: runs are added and merged
        known.add(stored[start:start + 700], minutes_of(stored[start:start + 700]))
        assert known.maybe(stored[:start + 700]).all()
    assert known.count == 50_000 and known.runs <= 16  # about log2(50_000 / 700) runs at most
    fresh = np.setdiff1d(rng.integers(0, 2**63, size=200_000, dtype=np.uint64), stored)
    assert not known.maybe(fresh).any()  # exact: only a 64-bit hash collision could answer "maybe"
    # order and repeats do not matter
    known.add(stored[:10], minutes_of(stored[:10]))
    shuffled = rng.permutation(np.concatenate([stored[:500], fresh[:500]]))
    assert (known.maybe(shuffled) == np.isin(shuffled, stored)).all()


def test_the_upload_range_holds_every_entry_of_the_ids_found_and_no_other():
    """A re-sent id has an entry per write, in any run; the range spans all of them (the stored row is one)."""
    rng = np.random.default_rng(5)
    hashes = rng.permutation(np.arange(1, 30_001, dtype=np.uint64) * np.uint64(7919))
    minutes = rng.integers(0, 100_000, size=len(hashes)).astype(np.uint32)
    entries: dict[int, list[int]] = {int(h): [int(m)] for h, m in zip(hashes, minutes, strict=True)}
    known = KnownIds(hashes[:10_000], minutes[:10_000])
    for start in range(10_000, 30_000, 1_000):
        known.add(hashes[start:start + 1_000], minutes[start:start + 1_000])
        # some earlier ids written again, at later minutes
        again = hashes[start - 3_000:start - 2_990]
        later = (minutes[start - 3_000:start - 2_990] + 200_000).astype(np.uint32)
        known.add(again, later)
        for h, m in zip(again, later, strict=True):
            entries[int(h)].append(int(m))
    assert known.runs > 1
    for probe in (hashes[:5], hashes[7_005:7_012], hashes[[3, 29_999, 17_000]], hashes[10_000:10_001]):
        with_fresh = np.concatenate([probe, np.array([5, 11], dtype=np.uint64)])  # not multiples of 7919
        found = known.find(with_fresh)
        assert found.mask.tolist() == [True] * len(probe) + [False, False]
        every = [m for h in probe for m in entries[int(h)]]
        assert found.minutes == (min(every), max(every))
    nothing = known.find(np.array([5, 11], dtype=np.uint64))
    assert not nothing.mask.any() and nothing.minutes is None
    with pytest.raises(ValueError, match="no id was found"):
        nothing.uploaded_between()


def test_hashes_as_duckdb_returns_them():
    # DuckDB's hash() comes back as uint64; the set also takes int64 views and lists of them
    known = KnownIds(np.array([2**64 - 1, 5], dtype=np.uint64), np.array([3, 4]))
    assert known.maybe(np.array([2**64 - 1, 5, 6], dtype=np.uint64)).tolist() == [True, True, False]
    assert known.maybe(np.array([-1], dtype=np.int64)).tolist() == [True]
    assert known.find(np.array([-1], dtype=np.int64)).minutes == (3, 3)


def test_upload_minutes_are_whole_minutes_since_1970():
    seconds = np.array([0, 59, 60, 7_258_118_399])  # up to the last accepted upload time, 2199-12-31T23:59:59Z
    assert upload_minutes(seconds).tolist() == [0, 0, 1, 120_968_639]
    # times ingest refuses (a file edited by hand) are kept as the ends of the range, which mean "unbounded"
    assert upload_minutes(np.array([-86_400, 2**40 * 60])).tolist() == [0, MAX_MINUTE]


def test_empty_filter_says_nothing_is_stored():
    known = KnownIds(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint32))
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

    def slow_build(hashes, minutes):
        started.set()
        assert gate.wait(30)
        return KnownIds(hashes, minutes)

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


class _Recording:
    """The store's cursor, recording each statement with its parameters."""

    def __init__(self, cur, seen: list) -> None:
        self._cur, self._seen = cur, seen

    def execute(self, sql, *args):
        self._seen.append((" ".join(sql.split()), args[0] if args else None))
        return self._cur.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._cur, name)


def wait_for_known(store: DuckDBStore) -> None:
    for _ in range(1000):
        if store._known.get(APP) is not None:
            return
        time.sleep(0.01)
    raise AssertionError("the known-id set was never installed")


def test_re_sent_ids_are_looked_up_only_within_the_upload_minutes_of_their_stored_rows(tmp_path):
    def put(sessions: list[tuple[str, str, str]]) -> None:  # (id, upload time, city)
        docs = [{"sessionId": sid, "property": {"uploadedServerTime": at}, "user": {"uxcamuserid": "u" + sid[-1]},
                 "location": {"city": city}} for sid, at, city in sessions]
        b = normalise_batch(APP, docs, now=NOW, limits=Limits())
        assert not b.rejected, b.rejected[:1]
        store.write_sessions(APP, b.sessions, b.events)

    # one session a day through January, uploaded at 08:30:15
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    put([(f"s{d:02d}", f"2026-01-{d:02d}T08:30:15Z", "Paris") for d in range(1, 32)])
    store.close()
    # reopened, the set is built from the table's rows (their minutes computed by SQL) on the next write
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    put([("s10", "2026-02-01T00:00:40Z", "Lyon")])  # re-sent once: its stored row moves to February
    wait_for_known(store)
    seen: list = []
    real = store._cursor
    store._cursor = lambda: _Recording(real(), seen)
    # a retry of three sessions, one of them (s10) for the second time, among new ones
    put([("s05", "2026-03-01T00:00:00Z", "Nice"), ("s10", "2026-03-01T00:00:00Z", "Nice"),
         ("s20", "2026-03-01T00:00:00Z", "Nice"), ("n1", "2026-03-01T00:00:00Z", "Nice")])
    lookups = [params for sql, params in seen if sql.startswith("SELECT session_id, uxcamuserid, started_at")]
    # s05 at Jan 5 08:30, s10 at Jan 10 and Feb 1 (its entries from both writes), s20 at Jan 20; not n1
    assert lookups == [[APP, ["s05", "s10", "s20"], datetime(2026, 1, 5, 8, 30), datetime(2026, 2, 1, 0, 0, 59)]]
    got = dict(store.query("SELECT session_id, city FROM sessions", []))
    assert len(got) == 32 and store.query("SELECT count(*) FROM sessions", []) == [(32,)]
    assert {sid: got[sid] for sid in ("s05", "s10", "s20", "n1", "s06")} == {
        "s05": "Nice", "s10": "Nice", "s20": "Nice", "n1": "Nice", "s06": "Paris"}
    store.close()


def test_rows_outside_the_accepted_upload_times_are_still_found(tmp_path):
    """Rows ingest would refuse (before 1970, after 2199: a file edited by hand) neither break the set's build
    nor escape a re-send: their minutes are the range's ends, which the look-up leaves unbounded."""
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    write(store, [("tmpl", "Paris")])
    for sid, at in (("old", "1969-06-01 10:00:00"), ("far", "2500-01-01 00:00:00")):
        store._conn.execute(
            "INSERT INTO sessions SELECT * REPLACE ($1 AS session_id, $2::TIMESTAMP AS uploaded_at) FROM sessions "
            "WHERE session_id = 'tmpl'", [sid, at])
    store.close()
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    write(store, [("new", "Nice")])  # builds the set from the table
    wait_for_known(store)
    write(store, [("old", "Lyon")])
    write(store, [("far", "Rome")])
    got = sorted(store.query("SELECT session_id, city FROM sessions", []))
    assert got == [("far", "Rome"), ("new", "Nice"), ("old", "Lyon"), ("tmpl", "Paris")]
    store.close()
