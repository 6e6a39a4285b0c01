"""Ingestion steps back from reads: its validation workers and writer thread run at a raised nice value."""

import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pydantic
import pytest

from sessionscope.demo import generate_sessions
from sessionscope.ingest import Limits
from sessionscope.ingest.pool import ValidationPool, lower_priority
from sessionscope.ingest.writer import GroupWriter
from sessionscope.settings import Settings
from sessionscope.store.duckdb import DuckDBStore

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="per-thread priority is a Linux feature")


def nice_of_thread() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def in_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.update(before=nice_of_thread(), result=fn(), after=nice_of_thread()))
    t.start()
    t.join()
    return out


def test_lower_priority_raises_the_calling_threads_nice_value_only():
    main_before = nice_of_thread()
    got = in_thread(lambda: lower_priority(5))
    assert got["after"] == min(19, got["before"] + 5)
    assert nice_of_thread() == main_before  # the other threads of the process keep theirs
    assert in_thread(lambda: lower_priority(0))["after"] == main_before
    capped = in_thread(lambda: (lower_priority(15), lower_priority(15)))
    assert capped["after"] == 19


class PriorityRecordingStore(DuckDBStore):
    """The real store, noting the nice value of the thread each write runs in."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.write_nice: list[int] = []

    def write_sessions(self, app_id, sessions, events):
        self.write_nice.append(nice_of_thread())
        return super().write_sessions(app_id, sessions, events)


def test_the_writer_thread_writes_at_the_raised_nice_value(tmp_path: Path):
    from sessionscope.ingest import normalise_batch

    docs = list(generate_sessions(20, seed=3, now=datetime(2026, 1, 1, tzinfo=UTC)))
    batch = normalise_batch("ab" * 12, docs, now=datetime(2026, 1, 1), limits=Limits())
    store = PriorityRecordingStore(str(tmp_path / "s.duckdb"))
    base = nice_of_thread()
    writer = GroupWriter(store, nice=7)
    try:
        writer.write("ab" * 12, batch.sessions, batch.events)
    finally:
        writer.close()
    assert store.write_nice == [min(19, base + 7)]
    assert store.query("SELECT count(*) FROM sessions", [])[0][0] == 20
    assert nice_of_thread() == base
    store.close()


def test_validation_workers_run_at_the_raised_nice_value():
    docs = list(generate_sessions(5, seed=4, now=datetime(2026, 1, 1, tzinfo=UTC)))
    pool = ValidationPool(1, nice=6)
    base = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        got = pool.validate("ab" * 12, orjson.dumps(docs), "application/json", None, datetime(2026, 1, 1), Limits(),
                            10**8, 10**5)
        assert got.accepted == 5
        workers = list(pool._pool._processes)  # type: ignore[union-attr]
        assert workers and all(os.getpriority(os.PRIO_PROCESS, pid) == min(19, base + 6) for pid in workers)
    finally:
        pool.close()
    assert os.getpriority(os.PRIO_PROCESS, 0) == base


def test_the_setting_is_a_nice_increment():
    assert Settings().ingest_nice == 10
    assert Settings(ingest_nice=0).ingest_nice == 0
    for bad in (-1, 20):
        with pytest.raises(pydantic.ValidationError):
            Settings(ingest_nice=bad)
