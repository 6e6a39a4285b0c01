"""Group commit: queued batches of an app share a write, later documents still win, failures reach every caller."""

import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sessionscope.ingest import Limits, normalise_batch
from sessionscope.ingest.writer import GroupWriter
from sessionscope.store.duckdb import DuckDBStore

APP, OTHER = "ab" * 12, "cd" * 12
T0 = datetime(2026, 1, 1)


def batch(app: str, ids: list[str], user: str = "u1", city: str = "Paris"):
    docs = [
        {
            "sessionId": sid,
            "property": {"uploadedServerTime": (T0 + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")},
            "user": {"uxcamuserid": user},
            "location": {"city": city},
            "events": [{"name": "tap", "timeSec": 1.0}],
        }
        for i, sid in enumerate(ids)
    ]
    b = normalise_batch(app, docs, now=T0, limits=Limits())
    assert not b.rejected, b.rejected
    return b.sessions, b.events


class GatedStore(DuckDBStore):
    """The real store, except that a write can be held at its start until the test opens the gate."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def write_sessions(self, app_id, sessions, events):
        self.entered.set()
        assert self.gate.wait(timeout=30), "the test never opened the gate"
        return super().write_sessions(app_id, sessions, events)

    @contextmanager
    def holding_first_write(self):
        """Inside: the next write has started (the writer thread took it off the queue) and waits."""
        self.entered.clear()
        self.gate.clear()
        try:
            yield
        finally:
            self.gate.set()

    def wait_until_writing(self) -> None:
        assert self.entered.wait(timeout=30), "the writer thread never started the write"


@pytest.fixture
def store(tmp_path: Path):
    s = GatedStore(str(tmp_path / "s.duckdb"))
    yield s
    s.close()


def rows(store: DuckDBStore, app: str) -> dict[str, tuple[str, int]]:
    got = store.query("SELECT session_id, city, session_number FROM sessions WHERE app_id = $1", [app])
    return {sid: (city, number) for sid, city, number in got}


def test_batches_queued_behind_a_write_are_committed_together(store):
    writer = GroupWriter(store)
    with store.holding_first_write():  # the first batch waits inside its write, the rest queue up
        first = writer.submit(APP, *batch(APP, ["a1", "a2"]))
        store.wait_until_writing()
        queued = [writer.submit(APP, *batch(APP, [f"b{i}"])) for i in range(5)]
        other = writer.submit(OTHER, *batch(OTHER, ["c1"]))
        assert not first.done()
    for f in [first, *queued, other]:
        f.result(timeout=30)
    writer.close()
    # one write for the first batch, one for the five queued ones of APP, one for OTHER
    assert (writer.writes, writer.batches) == (3, 7)
    assert sorted(rows(store, APP)) == ["a1", "a2", "b0", "b1", "b2", "b3", "b4"]
    # numbering spans the merged writes: the user's seven sessions are numbered 1..7
    assert sorted(n for _, n in rows(store, APP).values()) == list(range(1, 8))
    assert rows(store, OTHER) == {"c1": ("Paris", 1)}
    assert store.query("SELECT count(*) FROM events WHERE app_id = $1", [APP]) == [(7,)]


def test_a_resent_session_starts_a_new_write_and_the_later_document_wins(store):
    writer = GroupWriter(store)
    with store.holding_first_write():
        first = writer.submit(APP, *batch(APP, ["x0"]))
        store.wait_until_writing()
        older = writer.submit(APP, *batch(APP, ["x1", "x2"], city="Lyon"))
        newer = writer.submit(APP, *batch(APP, ["x2"], city="Nice"))
    for f in (first, older, newer):
        f.result(timeout=30)
    writer.close()
    assert writer.writes == 3
    assert rows(store, APP)["x2"][0] == "Nice"
    assert rows(store, APP)["x1"][0] == "Lyon"
    assert store.query("SELECT count(*) FROM events WHERE app_id = $1 AND session_id = 'x2'", [APP]) == [(1,)]


def test_a_failed_write_fails_every_batch_in_it_and_stores_none(store):
    writer = GroupWriter(store)
    writer.write(APP, *batch(APP, ["ok"]))
    good_sessions, good_events = batch(APP, ["g1"])
    bad_sessions, bad_events = batch(APP, ["b1"])
    bad_sessions = bad_sessions.drop_columns(["city"])  # the store cannot take this table
    with store.holding_first_write():
        first = writer.submit(APP, *batch(APP, ["h1"]))
        store.wait_until_writing()
        good = writer.submit(APP, good_sessions, good_events)
        bad = writer.submit(APP, bad_sessions, bad_events)
    first.result(timeout=30)
    for f in (good, bad):
        with pytest.raises(Exception):  # noqa: B017 - whatever the engine raises reaches both callers
            f.result(timeout=30)
    # the writer keeps working after a failed write
    writer.write(APP, *batch(APP, ["after"]))
    writer.close()
    assert sorted(rows(store, APP)) == ["after", "h1", "ok"]


def test_an_empty_batch_is_done_at_once(store):
    writer = GroupWriter(store)
    s, e = batch(APP, ["z"])
    f = writer.submit(APP, s.slice(0, 0), e.slice(0, 0))
    assert f.done() and f.result() is None
    assert writer._thread is None


def test_batches_submitted_together_share_a_write_unless_an_id_repeats(store):
    writer = GroupWriter(store)
    s, e = batch(APP, ["e0"])
    futures = writer.submit_many(APP, [batch(APP, ["m1", "m2"]), batch(APP, ["m3"]), (s.slice(0, 0), e.slice(0, 0))])
    assert futures[2].done()  # the empty one at once
    for f in futures:
        f.result(timeout=30)
    assert (writer.writes, writer.batches) == (1, 2)
    resent = writer.submit_many(APP, [batch(APP, ["m4"], city="Lyon"), batch(APP, ["m4", "m5"], city="Nice")])
    for f in resent:
        f.result(timeout=30)
    writer.close()
    assert (writer.writes, writer.batches) == (3, 4)
    assert rows(store, APP)["m4"][0] == "Nice"
    assert sorted(n for _, n in rows(store, APP).values()) == [1, 2, 3, 4, 5]


def test_a_batch_submitted_while_the_writer_closes_is_written_after_the_closed_ones(store):
    writer = GroupWriter(store)
    with store.holding_first_write():
        first = writer.submit(APP, *batch(APP, ["r1"], city="Lyon"))
        store.wait_until_writing()  # the thread is inside the first write
        closing = threading.Thread(target=writer.close)
        closing.start()  # queues the end of the thread, and waits for it
        deadline = threading.Event()
        while writer._thread is not None and not deadline.wait(0.01):
            pass
        # after close() took the thread: a new batch, re-sending r1 (the later document must win)
        later = writer.submit(APP, *batch(APP, ["r1", "r2"], city="Nice"))
        assert not first.done() and not later.done()
    first.result(timeout=30)
    later.result(timeout=30)
    closing.join(timeout=30)
    assert not closing.is_alive(), "close() never returned"
    writer.close()
    assert writer._thread is None
    assert rows(store, APP) == {"r1": ("Nice", 1), "r2": ("Nice", 2)}
