"""Ingest validation in worker processes, so a server keeps answering reads while it ingests.

Decoding and validating a batch is pure Python (about 70 µs a document). Run in the server process it
holds the interpreter lock for the whole batch, and every read request waits behind it. A `ValidationPool`
runs `parse_body` + `normalise_batch` in worker processes instead; the server process only receives the
Arrow tables and writes them. Workers are started with `spawn` (never `fork` from a threaded server) on
the first batch, and an `ApiError` raised in a worker reaches the caller unchanged. Large bodies and
tables travel through files in shared memory (see `handoff`), not through the pool's pipe.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import Any

from . import handoff
from .normalise import Limits, NormalisedBatch, normalise_batch
from .parse import gc_paused, parse_body


def validate_body(
    appid: str,
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    now: datetime,
    limits: Limits,
    max_bytes: int,
    max_sessions: int,
) -> NormalisedBatch:
    """Decode and validate one ingest request body (in whichever process runs it)."""
    with gc_paused():  # the collector would walk every decoded object of the batch, repeatedly
        docs = parse_body(body, content_type, content_encoding, max_bytes=max_bytes, max_sessions=max_sessions)
        batch = normalise_batch(appid, docs, now=now, limits=limits)
        # Free the documents while the collector is still paused: alive when it resumes, they would be
        # walked by the full collection that the batch's millions of allocations have made due.
        del docs
    return batch


def _validate_handed(
    directory: str, appid: str, body: bytes | handoff.BodyFile, *args: Any
) -> NormalisedBatch | handoff.BatchFiles:
    """In a worker: `validate_body`, taking the body from and leaving the tables in `directory`."""
    return handoff.put_batch(directory, validate_body(appid, handoff.take_body(body), *args))


def _start_worker(parent: int, nice: int) -> None:
    """In a worker: step back from the server's reads (see `lower_priority`), and exit with the server.

    Ctrl-C at a terminal interrupts the whole foreground process group, workers included: a worker ignores
    it (it printed a KeyboardInterrupt traceback) and ends when the server or import shuts its pool down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lower_priority(nice)
    _exit_with_parent(parent)


def lower_priority(step: int) -> None:
    """Lower the CPU priority (raise the nice value by `step`) of the calling thread on Linux, elsewhere of
    the process.

    Ingestion is throughput work and a read is someone waiting: on a machine with few cores, a validating
    worker or the writer thread at the same priority as the request threads takes the CPU from reads as
    often as reads take it from them. A step of 10 weighs a read thread about ten times as much as an
    ingestion thread on a contended core; an idle core still goes to ingestion, so an import alone runs as
    fast as before. Measured (`make bench`, DuckDB, 1M sessions, 2 cores): reader p95 during ingestion
    fell by about a quarter, ingestion beside it slowed by about a fifth.
    """
    if step <= 0:
        return
    try:
        if hasattr(os, "setpriority"):
            # on Linux a thread id names one thread here; elsewhere 0 is the whole process
            who = threading.get_native_id() if sys.platform == "linux" else 0
            os.setpriority(os.PRIO_PROCESS, who, min(19, os.getpriority(os.PRIO_PROCESS, who) + step))
    except OSError:  # not permitted, or no such call: priority is an optimisation, never a failure
        pass


def _exit_with_parent(parent: int) -> None:
    """In a worker: exit as soon as the server is gone. A server killed with SIGKILL cannot shut its pool
    down, and its workers, blocked on their task queue, would otherwise live on as orphans."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class ValidationPool:
    """`workers` processes running `validate_body`; with 0 workers it runs in the calling thread."""

    def __init__(self, workers: int, nice: int = 0) -> None:
        self.workers = workers
        self.nice = nice  # the workers' step back from reads (lower_priority)
        self._pool: ProcessPoolExecutor | None = None
        self._directory: Path | None = None  # for handoff files, made with the pool
        self._lock = threading.Lock()

    def validate(self, *args: Any) -> NormalisedBatch:
        """`validate_body(*args)`, in a worker when there are any."""
        return self.submit(*args).result()

    def submit(self, appid: str, body: bytes, *args: Any) -> Future[NormalisedBatch]:
        """`validate_body(appid, body, *args)`, in a worker when there are any."""
        done: Future[NormalisedBatch] = Future()
        if self.workers == 0:
            try:
                done.set_result(validate_body(appid, body, *args))
            except BaseException as exc:  # noqa: BLE001 - raised from result(), as a worker's would be
                done.set_exception(exc)
            return done
        pool, directory = self._executor()
        sent = handoff.put_body(directory, body)
        try:
            try:
                running = pool.submit(_validate_handed, directory, appid, sent, *args)
            except BrokenProcessPool:
                # A worker died (killed, out of memory): its batch failed, but later ones get new workers
                # rather than this error for as long as the server runs.
                running = self._replace(pool).submit(_validate_handed, directory, appid, sent, *args)
        except BaseException:
            handoff.release_body(sent)
            raise
        running.add_done_callback(lambda f: _receive(f, done, sent))
        return done

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is broken:  # not yet replaced by another thread
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)
        return self._executor()[0]

    def _executor(self) -> tuple[ProcessPoolExecutor, str | None]:
        with self._lock:
            if self._pool is None:
                if self._directory is None:
                    try:
                        self._directory = handoff.open_directory()
                    except OSError:  # no usable directory: everything goes through the pipe
                        pass
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=_start_worker,
                    initargs=(os.getpid(), self.nice),
                )
            return self._pool, None if self._directory is None else str(self._directory)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            directory, self._directory = self._directory, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


def _receive(
    running: Future[NormalisedBatch | handoff.BatchFiles], done: Future[NormalisedBatch], sent: bytes | handoff.BodyFile
) -> None:
    """Settle `done` from a worker's result, mapping tables it left in files (taken, so removed, even when
    the caller has cancelled `done`)."""
    try:
        batch = handoff.take_batch(running.result())
    except BaseException as exc:  # noqa: BLE001 - the caller's result() raises it
        if not done.cancelled():
            done.set_exception(exc)
    else:
        if not done.cancelled():
            done.set_result(batch)
    finally:
        handoff.release_body(sent)
