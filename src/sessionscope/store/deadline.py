"""A request's time limit, as the store's reads see it.

One slow request (an all-time group-by of a custom property over a large store) must not hold the engine's
cores for minutes while every other request waits. The API and the dashboard run each read request inside
`time_limit(seconds)` (SESSIONSCOPE_QUERY_TIMEOUT_SECONDS); every store read in it may take what is left of
that time: `remaining()`. The engines stop a query that runs past it: DuckDB through `Watchdog` (one thread
that interrupts the query's cursor at its deadline), ClickHouse and chDB through the `max_execution_time`
setting. Either way the request is answered with `exceeded()`: a 503 in the SPEC's error shape, code
`query_timeout`, that names the limit; nothing is written, so nothing can be lost.

Exports and ingestion run no reads under a limit: an export of a large app legitimately takes minutes,
and it streams as it goes. Reads outside `time_limit` (the command line, the ingest path's own reads) are
never stopped.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ..errors import ApiError

# (deadline on the monotonic clock, the limit in seconds) of the current request; None: no limit
_LIMIT: ContextVar[tuple[float, float] | None] = ContextVar("sessionscope_time_limit", default=None)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Within this block (this thread or task, and the worker threads it hands work to), the store's reads
    together may take `seconds` (0: no limit)."""
    token = _LIMIT.set((time.monotonic() + seconds, seconds) if seconds > 0 else None)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def exceeded(seconds: float | None = None) -> ApiError:
    """The answer to a request whose reads ran past the limit."""
    if seconds is None:
        limit = _LIMIT.get()
        seconds = limit[1] if limit else 0.0
    return ApiError(
        503,
        f"The request took longer than this server's limit of {seconds:g} s for a read and was stopped. Narrow "
        "the date range or the filters, or group by fewer attributes; the server's operator sets the limit "
        "(SESSIONSCOPE_QUERY_TIMEOUT_SECONDS).",
        code="query_timeout",
    )


def remaining() -> float | None:
    """Seconds the next read may take (None: no limit); raises `exceeded()` when none are left."""
    limit = _LIMIT.get()
    if limit is None:
        return None
    left = limit[0] - time.monotonic()
    if left <= 0:
        raise exceeded(limit[1])
    return left


class Watchdog:
    """Calls a running query's `cancel` when its deadline passes, and again every `REPEAT` seconds until the
    query leaves the watch: one thread for every query of the process.

    Again, because DuckDB drops an interrupt that arrives before the query starts executing (still binding
    its parameters, or waiting for the engine behind other queries): such a read then ran to its end, 27 and
    75 s past a 1 s limit. `cancel` is called under the watchdog's lock, and a query leaves the watch under
    the same lock, so a query that has left it is never cancelled afterwards (its cursor may already run the
    next one)."""

    REPEAT = 0.02

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[list[object]] = []  # [deadline, sequence number, cancel, fired]
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        # when the thread wakes next: a query of a later deadline need not wake it (a wake-up per query, a
        # thread switch each, cost a small read 77 µs)
        self._wake_at = math.inf

    @contextmanager
    def watch(self, seconds: float, cancel: Callable[[], object]) -> Iterator[Callable[[], bool]]:
        """Within this block, `cancel()` is called once `seconds` have passed; yields whether it was."""
        entry: list[object] = [time.monotonic() + seconds, next(self._order), cancel, False]
        with self._cond:
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sessionscope-query-watchdog", daemon=True)
                self._thread.start()
            if float(entry[0]) < self._wake_at:  # type: ignore[arg-type]  # sooner than the thread wakes
                self._cond.notify()
        try:
            yield lambda: bool(entry[3])
        finally:
            with self._cond:
                self._heap = [e for e in self._heap if e is not entry]
                heapq.heapify(self._heap)

    def _run(self) -> None:
        with self._cond:
            while True:
                if not self._heap:
                    self._wake_at = math.inf
                    self._cond.wait()
                    continue
                self._wake_at = float(self._heap[0][0])  # type: ignore[arg-type]
                wait = self._wake_at - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                entry = heapq.heappop(self._heap)
                entry[3] = True
                try:
                    entry[2]()  # type: ignore[operator]
                except Exception:  # noqa: BLE001 - a cursor closed meanwhile: nothing left to stop
                    pass
                entry[0] = time.monotonic() + self.REPEAT  # and again, until the query has left
                heapq.heappush(self._heap, entry)


WATCHDOG = Watchdog()
