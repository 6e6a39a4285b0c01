"""Group commit: one writer thread that commits concurrent batches of an app in one transaction.

Every ingestion path (HTTP, import, demo) hands its normalised batches to a `GroupWriter`. The thread takes
whatever is queued when it becomes free and writes the batches of each app together, so under load many
small requests share one existence check, one user lookup and one durable commit. Each caller's future
resolves only after the commit that holds its batch, so nothing is acknowledged before it is durable; if
that write fails, every batch in it gets the error and none of them is stored.

Batches of one app are merged only while their session ids are disjoint; a batch that re-sends an id of
an earlier queued batch starts a new write after it, so the later document still wins. Writes of one app
keep their submission order. While the thread writes, the callers' threads parse and validate the next
batches: for a bulk load that overlaps the two halves of the work on two cores.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

import pyarrow as pa

from ..store import Store
from .pool import lower_priority


@dataclass(slots=True)
class _Job:
    app_id: str
    sessions: pa.Table
    events: pa.Table
    future: Future[None] = field(default_factory=Future)


class GroupWriter:
    """Serialises `store.write_sessions` through one thread and merges what waits into larger writes."""

    def __init__(self, store: Store, max_rows: int = 50_000, nice: int = 0) -> None:
        self.store = store
        self.nice = nice  # the writer thread's step back from reads (ingest.pool.lower_priority)
        self.max_rows = max_rows
        # Each thread has its own queue. A close() ends the current thread's queue with None; a batch
        # submitted after that goes to a new thread and queue, and that thread first waits for the closed
        # one to finish, so writes keep their submission order.
        self._queue: queue.Queue[list[_Job] | None] | None = None
        self._thread: threading.Thread | None = None
        self._closed_thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.writes = 0  # transactions committed (for tests and metrics)
        self.batches = 0  # batches those transactions held

    def submit(self, app_id: str, sessions: pa.Table, events: pa.Table) -> Future[None]:
        """Queue a batch; the future resolves when it is committed (or raises the write's error)."""
        return self.submit_many(app_id, [(sessions, events)])[0]

    def submit_many(self, app_id: str, batches: list[tuple[pa.Table, pa.Table]]) -> list[Future[None]]:
        """Queue batches together, so that the writer takes them in one go and, their ids permitting, writes
        them in one transaction; a future per batch."""
        jobs = [_Job(app_id, sessions, events) for sessions, events in batches]
        queued = []
        for job in jobs:
            if job.sessions.num_rows == 0:
                job.future.set_result(None)
            else:
                queued.append(job)
        if queued:
            with self._start_lock:  # a close() cannot come between choosing the queue and putting on it
                if self._queue is None:
                    self._queue = queue.Queue()
                    self._thread = threading.Thread(
                        target=self._run, args=(self._queue, self._closed_thread), name="sessionscope-writer",
                        daemon=True,
                    )
                    self._thread.start()
                self._queue.put(queued)
        return [job.future for job in jobs]

    def write(self, app_id: str, sessions: pa.Table, events: pa.Table) -> None:
        """Write a batch and wait until it is durable."""
        self.submit(app_id, sessions, events).result()

    def close(self) -> None:
        """Finish what is queued, then stop the thread (a later submit starts another)."""
        with self._start_lock:
            thread, jobs = self._thread, self._queue
            self._thread = self._queue = None
            if thread is not None and jobs is not None:
                jobs.put(None)
                self._closed_thread = thread
        if thread is not None:
            thread.join()

    # -- the writer thread -----------------------------------------------------------------
    def _run(self, jobs_queue: queue.Queue[list[_Job] | None], previous: threading.Thread | None) -> None:
        lower_priority(self.nice)
        if previous is not None:
            previous.join()  # the closed thread's writes come first
        while True:
            first = jobs_queue.get()
            if first is None:
                return
            jobs, stop = list(first), False
            rows = sum(job.sessions.num_rows for job in jobs)
            while rows < self.max_rows:
                try:
                    more = jobs_queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                jobs.extend(more)
                rows += sum(job.sessions.num_rows for job in more)
            for group in _groups(jobs):
                self._write(group)
            if stop:
                return

    def _write(self, group: list[_Job]) -> None:
        try:
            if len(group) == 1:
                sessions, events = group[0].sessions, group[0].events
            else:
                sessions = pa.concat_tables([j.sessions for j in group])
                events = pa.concat_tables([j.events for j in group])
            self.store.write_sessions(group[0].app_id, sessions, events)
        except BaseException as exc:  # noqa: BLE001 - every waiting caller gets the write's error
            for job in group:
                job.future.set_exception(exc)
            return
        self.writes += 1
        self.batches += len(group)
        for job in group:
            job.future.set_result(None)


def _groups(jobs: list[_Job]) -> list[list[_Job]]:
    """Split queued jobs into writes: per app, in order, a new write whenever a session id repeats."""
    if len(jobs) == 1:  # the common case when not under load: no ids to compare
        return [jobs]
    out: list[list[_Job]] = []
    open_group: dict[str, tuple[list[_Job], set[str]]] = {}
    for job in jobs:
        ids = set(job.sessions.column("session_id").to_pylist())
        current = open_group.get(job.app_id)
        if current is not None and current[1].isdisjoint(ids):
            current[0].append(job)
            current[1].update(ids)
            continue
        group: list[_Job] = [job]
        out.append(group)
        open_group[job.app_id] = (group, ids)
    return out
