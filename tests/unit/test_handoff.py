"""Bodies and validated tables cross to and from validation workers through shared-memory files, which are
removed as they are taken; small payloads, and any payload when the directory cannot be written, go
through the pipe instead, with the same result."""

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from sessionscope.demo import generate_sessions
from sessionscope.ingest import Limits, handoff, normalise_batch
from sessionscope.ingest.pool import ValidationPool, _validate_handed

NOW = datetime(2026, 1, 1)
ARGS = (NOW, Limits(), 10**9, 10**5)
APP = "ab" * 12


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    # about 2.4 KB a document: 1,000 make a body and tables well over handoff.MIN_BYTES
    return list(generate_sessions(1_000, seed=3, now=NOW.replace(tzinfo=UTC)))


def test_a_large_batch_goes_through_files_and_comes_back_equal(tmp_path, docs):
    batch = normalise_batch(APP, docs, now=NOW, limits=Limits())
    sent = handoff.put_batch(str(tmp_path), batch)
    assert isinstance(sent, handoff.BatchFiles)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".events", ".sessions"]
    got = handoff.take_batch(sent)
    assert list(tmp_path.iterdir()) == []  # taken means removed; the mapping outlives the file
    assert got.sessions.equals(batch.sessions) and got.events.equals(batch.events)
    assert (got.accepted, got.rejected, got.accepted_ids) == (batch.accepted, batch.rejected, batch.accepted_ids)
    assert got.events.num_rows == sum(len(d.get("events") or []) for d in docs)

    body = orjson.dumps(docs)
    sent_body = handoff.put_body(str(tmp_path), body)
    assert isinstance(sent_body, handoff.BodyFile)
    assert handoff.take_body(sent_body) == body and list(tmp_path.iterdir()) == []

    # what a worker runs: the body taken from its file, the tables left in files
    result = _validate_handed(str(tmp_path), APP, handoff.put_body(str(tmp_path), body), "application/json", None,
                              *ARGS)
    assert isinstance(result, handoff.BatchFiles) and len(list(tmp_path.iterdir())) == 2
    assert handoff.take_batch(result).sessions.equals(batch.sessions)


def test_small_payloads_and_an_unwritable_directory_use_the_pipe(tmp_path, docs):
    small = normalise_batch(APP, docs[:3], now=NOW, limits=Limits())
    assert handoff.put_batch(str(tmp_path), small) is small
    assert handoff.put_body(str(tmp_path), b"[]") == b"[]"
    big = normalise_batch(APP, docs, now=NOW, limits=Limits())
    gone = str(tmp_path / "gone")
    assert handoff.put_batch(gone, big) is big
    body = orjson.dumps(docs)
    assert handoff.put_body(gone, body) is body


def test_a_worker_pool_validates_through_files_and_leaves_none(docs):
    body = orjson.dumps(docs)
    pool, here = ValidationPool(1), ValidationPool(0)
    try:
        a = pool.validate(APP, body, "application/json", None, *ARGS)
        directory = pool._directory
        assert directory is not None and directory.is_dir() and list(directory.iterdir()) == []
        # the tables are mapped from the worker's two files, removed from the directory once taken
        mapped = {line.split()[-2] for line in Path("/proc/self/maps").read_text().splitlines()
                  if str(directory) in line and line.endswith("(deleted)")}
        assert sorted(Path(m).suffix for m in mapped) == [".events", ".sessions"]
        b = here.validate(APP, body, "application/json", None, *ARGS)
        assert a.sessions.equals(b.sessions) and a.events.equals(b.events) and a.accepted == len(docs)
        # with its directory gone, the pool still validates, through the pipe
        shutil.rmtree(directory)
        c = pool.validate(APP, body, "application/json", None, *ARGS)
        assert c.sessions.equals(b.sessions) and c.events.equals(b.events)
    finally:
        pool.close()
    assert not directory.exists()


def test_a_new_pool_removes_the_directories_of_dead_pools_only(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f"sessionscope-ingest-{dead_pid}-x1"
    live = tmp_path / f"sessionscope-ingest-{os.getppid()}-x2"
    other = tmp_path / "something-else"
    for d in (stale, live, other):
        d.mkdir()
        (d / "f").write_bytes(b"1")
    mine = handoff.open_directory(tmp_path)
    assert not stale.exists() and live.exists() and other.exists()
    assert mine.is_dir() and mine.name.startswith(f"sessionscope-ingest-{os.getpid()}-")


def test_a_dead_worker_is_replaced_and_no_body_file_is_left(docs):
    body = orjson.dumps(docs)
    pool = ValidationPool(1)
    try:
        first = pool.validate(APP, body, "application/json", None, *ARGS)
        executor = pool._pool
        for process in list(executor._processes.values()):  # killed as the out-of-memory killer would
            os.kill(process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while not executor._broken and time.monotonic() < deadline:
            time.sleep(0.05)
        assert executor._broken
        again = pool.validate(APP, body, "application/json", None, *ARGS)  # on new workers
        assert pool._pool is not executor and again.sessions.equals(first.sessions)
        # a pool that cannot take the batch at all: the caller gets the error, the body's file is removed
        pool._pool.shutdown()
        with pytest.raises(RuntimeError):
            pool.submit(APP, body, "application/json", None, *ARGS)
        assert list(pool._directory.iterdir()) == []
    finally:
        pool.close()
