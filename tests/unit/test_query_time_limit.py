"""A read past the request's time limit is stopped by the engine itself and answered `query_timeout`
(store/deadline.py): DuckDB's query is interrupted by the watchdog, ClickHouse's (chDB) by its
`max_execution_time`. The slow query here scans billions of generated rows: minutes of work, stopped within
seconds. The connection it ran on serves the next read, with no limit left on it outside a request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sessionscope.errors import ApiError
from sessionscope.store.chdb import ChdbStore
from sessionscope.store.deadline import Watchdog, remaining, time_limit
from sessionscope.store.duckdb import DuckDBStore

# minutes of work on either engine (a count over 3e10 generated rows); stopped long before
SLOW = {
    "duckdb": "SELECT count(*) FROM range(30000000000) t(x) WHERE x % 7 = 3",
    "chdb": "SELECT count() FROM numbers(30000000000) WHERE number % 7 = 3",
}
# a cheap read with a known answer: the integers below 1000 that leave 3 divided by 7
CHECK = {
    "duckdb": "SELECT count(*) FROM range(1000) t(x) WHERE x % 7 = 3",
    "chdb": "SELECT count() FROM numbers(1000) WHERE number % 7 = 3",
}
EXPECTED = sum(1 for x in range(1000) if x % 7 == 3)


@pytest.fixture(scope="module", params=["duckdb", "chdb"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    folder: Path = tmp_path_factory.mktemp(f"limit-{request.param}")
    s = DuckDBStore(str(folder / "s.duckdb")) if request.param == "duckdb" else ChdbStore(str(folder / "s.chdb"))
    yield request.param, s
    s.close()


def _stopped(run) -> tuple[ApiError, float]:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    with pytest.raises(ApiError) as caught:
        run()
    return caught.value, time.monotonic() - start


@pytest.mark.parametrize("how", ["query", "query_arrow"])
def test_a_read_past_the_limit_is_stopped_and_the_next_read_is_answered(store, how: str) -> None:  # type: ignore[no-untyped-def]
    engine, s = store
    read = getattr(s, how)
    with time_limit(1.0):
        err, took = _stopped(lambda: read(SLOW[engine], []))
    assert (err.status, err.code) == (503, "query_timeout")
    assert "limit of 1 s" in err.message and "SESSIONSCOPE_QUERY_TIMEOUT_SECONDS" in err.message
    # stopped by the engine at the limit (chDB: whole seconds), not run to its end (minutes)
    assert took < 15, took
    # the same thread reads again, right, under the same limit (chDB's connection, unchanged, read the next
    # Arrow result as "Invalid IPC stream"), a longer one and none
    for limit in (1.0, 30.0):
        with time_limit(limit):
            assert s.query(CHECK[engine], [])[0][0] == EXPECTED
    assert s.query_arrow(CHECK[engine], []).column(0).to_pylist() == [EXPECTED]


def test_stopping_one_read_leaves_the_others_running(store) -> None:  # type: ignore[no-untyped-def]
    """Requests run their reads on threads of their own: the one past its limit is stopped, the reads
    beside it (on other threads' connections, with longer limits or none) all answer, and right."""
    engine, s = store
    answers: list[int] = []
    stop = threading.Event()

    def others() -> None:
        while not stop.is_set():
            with time_limit(60.0):
                answers.append(s.query(CHECK[engine], [])[0][0])
            answers.append(s.query_arrow(CHECK[engine], []).column(0)[0].as_py())

    threads = [threading.Thread(target=others) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        with time_limit(1.0):
            err, _ = _stopped(lambda: s.query(SLOW[engine], []))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert err.code == "query_timeout"
    assert len(answers) >= 4 and set(answers) == {EXPECTED}


@pytest.mark.parametrize("limit", [0.0002, 0.0005, 0.001, 0.002, 0.005])
def test_a_read_that_starts_at_its_deadline_is_stopped_too(store, limit: float) -> None:  # type: ignore[no-untyped-def]
    """DuckDB drops an interrupt that comes before its query executes (binding it, or waiting for the
    engine): the read then ran to its end. The watchdog interrupts again until the read has left."""
    engine, s = store
    with time_limit(limit):
        err, took = _stopped(lambda: s.query(SLOW[engine], []))
    assert err.code == "query_timeout" and took < 15, took


def test_no_read_starts_once_the_time_is_spent(store) -> None:  # type: ignore[no-untyped-def]
    engine, s = store
    with time_limit(0.05):
        time.sleep(0.1)
        err, took = _stopped(lambda: s.query(CHECK[engine], []))
        assert err.code == "query_timeout" and "limit of 0.05 s" in err.message
        with pytest.raises(ApiError):
            remaining()
    assert remaining() is None  # the limit ends with its block
    with time_limit(0):  # 0: no limit
        assert remaining() is None


@pytest.mark.parametrize("store", ["chdb"], indirect=True)  # ClickHouse's setting; DuckDB's cursors carry none
def test_chdb_connections_carry_no_limit_outside_a_request(store) -> None:  # type: ignore[no-untyped-def]
    _, s = store
    setting = "SELECT toString(getSetting('max_execution_time'))"
    with time_limit(42.5):
        assert s.query_arrow(setting, []).column(0).to_pylist() == ["43"]  # whole seconds, rounded up
    assert s.query_arrow(setting, []).column(0).to_pylist() == ["0"]
    # a write on a connection a limited read used runs without the limit
    with time_limit(42.5):
        s.query_arrow(setting, [])
    s.execute("CREATE TABLE IF NOT EXISTS limit_probe (x Int64) ENGINE = Memory", [])
    assert s.driver._local.limit == 0  # type: ignore[attr-defined]


def test_the_watchdog_cancels_only_what_is_still_running() -> None:
    dog = Watchdog()
    calls: list[str] = []
    with dog.watch(10.0, lambda: calls.append("left early")) as fired:
        pass
    assert not fired()
    with dog.watch(0.05, lambda: calls.append("late")) as fired:
        time.sleep(0.3)
        assert fired()
    # cancelled at its deadline, then again every REPEAT seconds until it left, never after
    repeats = len(calls)
    assert 2 <= repeats <= 0.25 / Watchdog.REPEAT + 2, repeats
    # many at once, each cancelled at its own deadline, none after it left
    done = threading.Event()
    order: list[int] = []
    threads = []
    for i, wait in enumerate([0.25, 0.05, 0.15]):
        def run(i: int = i, wait: float = wait) -> None:
            with dog.watch(wait, lambda: order.append(i)):
                done.wait(1.0)
        threads.append(threading.Thread(target=run))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.2)
    assert calls == ["late"] * repeats
    assert list(dict.fromkeys(order)) == [1, 2, 0]  # first cancelled in deadline order
    after = len(order)
    time.sleep(0.1)
    assert len(order) == after  # none after they left
