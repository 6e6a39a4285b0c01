"""Hand a batch's body and its validated Arrow tables between a process and its validation workers through
files in shared memory, instead of pickling them through the worker pool's pipe.

Through the pipe, a 10,000-session body (about 24 MB) and its tables (about 30 MB) are each pickled, copied
through the kernel and unpickled: about 200 ms of CPU per batch, half of it in the server process, where it
holds the interpreter lock that read requests need. Through a file in `/dev/shm` the sender makes one copy
and the receiver maps the tables without copying them (a body it reads once). The receiver removes each
file as it takes it.

Payloads under `MIN_BYTES` still go through the pipe, where they are cheaper; so does any payload when the
directory cannot be written (no space, or gone), so a full `/dev/shm` slows ingestion but never fails it.
Each pool has its own directory, named after its process, removed when the pool closes; a pool that starts
removes the directories of pools whose process has died without closing them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from .normalise import NormalisedBatch

MIN_BYTES = 1 << 20
_PREFIX = "sessionscope-ingest-"


def base_directory() -> Path:
    """Shared memory where the system has it (`/dev/shm` on Linux), else the temporary directory."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


def open_directory(base: Path | None = None) -> Path:
    """A new directory for one pool's files, after removing those of pools whose process is gone."""
    base = base or base_directory()
    for stale in base.glob(f"{_PREFIX}*"):
        pid = stale.name[len(_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=base))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _new_path(directory: str, suffix: str) -> str:
    return os.path.join(directory, f"{os.getpid()}-{os.urandom(8).hex()}{suffix}")


@dataclass(frozen=True, slots=True)
class BodyFile:
    """A request body left in a file for a worker."""

    path: str

    def take(self) -> bytes:
        try:
            return Path(self.path).read_bytes()
        finally:
            discard(self.path)


@dataclass(slots=True)
class BatchFiles:
    """A validated batch whose two tables are left in Arrow IPC files; the rest travels with it."""

    sessions: str
    events: str
    accepted: int
    rejected: list[dict[str, Any]]
    accepted_ids: list[str]

    def take(self) -> NormalisedBatch:
        """The batch, its tables mapped from the files (which are removed: the mapping outlives them)."""
        try:
            sessions, events = _read(self.sessions), _read(self.events)
        finally:
            discard(self.sessions, self.events)
        return NormalisedBatch(sessions, events, self.accepted, self.rejected, self.accepted_ids)


def put_body(directory: str | None, body: bytes) -> bytes | BodyFile:
    """`body`, or a file holding it when it is large and the directory takes it."""
    if directory is None or len(body) < MIN_BYTES:
        return body
    path = _new_path(directory, ".body")
    try:
        with open(path, "wb") as f:
            f.write(body)
    except OSError:
        discard(path)
        return body
    return BodyFile(path)


def take_body(body: bytes | BodyFile) -> bytes:
    return body.take() if isinstance(body, BodyFile) else body


def release_body(body: bytes | BodyFile) -> None:
    """Remove the body's file, if it went by file and is still there (a worker that failed early never took
    it)."""
    if isinstance(body, BodyFile):
        discard(body.path)


def put_batch(directory: str | None, batch: NormalisedBatch) -> NormalisedBatch | BatchFiles:
    """`batch`, or files holding its tables when they are large and the directory takes them."""
    if directory is None or batch.sessions.nbytes + batch.events.nbytes < MIN_BYTES:
        return batch
    paths = _new_path(directory, ".sessions"), _new_path(directory, ".events")
    try:
        for path, table in zip(paths, (batch.sessions, batch.events), strict=True):
            _write(path, table)
    except OSError:
        discard(*paths)
        return batch
    return BatchFiles(*paths, batch.accepted, batch.rejected, batch.accepted_ids)


def take_batch(result: NormalisedBatch | BatchFiles) -> NormalisedBatch:
    return result.take() if isinstance(result, BatchFiles) else result


def discard(*paths: str) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _write(path: str, table: pa.Table) -> None:
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


def _read(path: str) -> pa.Table:
    source = pa.memory_map(path)
    try:
        return pa.ipc.open_stream(source).read_all()
    finally:
        source.close()  # the table's buffers keep the mapping itself alive
