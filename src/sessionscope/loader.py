"""Bulk loading in-process (demo, import): batches through the same validation and write as HTTP ingest."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

import orjson
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from .ingest.normalise import NormalisedBatch
from .ingest.parse import NdjsonLines
from .settings import Settings
from .store import Store


@dataclass
class LoadStats:
    accepted: int = 0
    rejected: int = 0
    seconds: float = 0.0
    first_errors: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds > 0 else 0.0


def _chunks(docs: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(docs)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _place(item: list[Any] | NdjsonLines, offset: int, index: int) -> tuple[str, int]:
    """Where a record of a batch is in the file, as a person finds it: an NDJSON line's number, or a
    Parquet row's (from 1)."""
    return ("line", item.lines[index][0]) if isinstance(item, NdjsonLines) else ("row", offset + index + 1)


def rejection_text(item: list[Any] | NdjsonLines, offset: int, rejected: dict[str, Any]) -> str:
    """One rejected record as the import prints it: its place, its sessionId when it has one, every reason."""
    kind, number = _place(item, offset, rejected["index"])
    where = f"{kind} {number}"
    reasons = "; ".join(rejected["errors"]).removeprefix(f"{where}: ")  # "line 2: not valid JSON" says it once
    named = f" ({rejected['sessionId']})" if rejected.get("sessionId") is not None else ""
    return f"{where}{named}: {reasons}"


def rejection_record(item: list[Any] | NdjsonLines, offset: int, rejected: dict[str, Any]) -> bytes:
    """One rejected record as a line of the --rejects file: {"line"|"row": n, "sessionId", "errors", and
    "document": the record as it was (or "text": a line that is not JSON)}, to fix and import again."""
    index = rejected["index"]
    kind, number = _place(item, offset, index)
    prefix = f"{kind} {number}: "
    errors = [e.removeprefix(prefix) for e in rejected["errors"]]
    record: dict[str, Any] = {kind: number, "sessionId": rejected.get("sessionId"), "errors": errors}
    if isinstance(item, NdjsonLines):
        line = item.lines[index][1]
        try:
            orjson.loads(line)
            record["document"] = orjson.Fragment(line)  # the line as sent
        except orjson.JSONDecodeError:
            record["text"] = line.decode("utf-8", "replace")
    else:
        record["document"] = item[index]
    return orjson.dumps(record, default=str) + b"\n"


def load_batches(
    store: Store,
    settings: Settings,
    appid: str,
    batches: Iterable[list[Any] | NdjsonLines],
    *,
    total: int | None = None,
    total_bytes: int | None = None,
    label: str = "Loading",
    quiet: bool = False,
    workers: int = 0,
    write_rows: int = 30_000,
    rejects: BinaryIO | None = None,
) -> LoadStats:
    """Validate and write each batch (decoded documents, or an NDJSON file's lines); a progress bar counts
    sessions. Every rejected record is written to `rejects` (one JSON object per line), when given.

    Three stages overlap: this thread reads the input, `workers` processes decode and validate NDJSON
    lines (with 0, this thread does), and the writer thread commits. Batches are written in input order,
    held until they make `write_rows` sessions and then written together, ids permitting, in one
    transaction: for DuckDB, a write of 30,000 sessions costs about a fifth less per session than three of
    10,000 (fewer commits, and its events reach the engine's row-group size, which it writes compressed to
    the file instead of the log).
    """
    from .errors import ApiError
    from .ingest import Limits, gc_paused, normalise_batch
    from .ingest.pool import ValidationPool
    from .ingest.writer import GroupWriter

    limits = Limits.from_settings(settings)
    pool = ValidationPool(workers, nice=settings.ingest_nice)
    writer = GroupWriter(store, nice=settings.ingest_nice)
    validating: deque[tuple[list[Any] | NdjsonLines, Future[NormalisedBatch]]] = deque()
    held: list[NormalisedBatch] = []  # validated, not yet handed to the writer
    writing: deque[list[Future[None]]] = deque()  # writes handed to the writer, not yet committed
    stats = LoadStats()
    start = time.perf_counter()
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[rate]}"), TimeRemainingColumn()]
    offset = 0

    def validate(item: list[Any] | NdjsonLines, here: bool = False) -> Future[NormalisedBatch]:
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        if isinstance(item, NdjsonLines) and workers > 0 and not here:
            return pool.submit(appid, item.body(), "application/x-ndjson", None, now, limits, 2**62, len(item))
        done: Future[NormalisedBatch] = Future()
        with gc_paused():
            docs = item.decode(strict=False) if isinstance(item, NdjsonLines) else item
            done.set_result(normalise_batch(appid, docs, now=now, limits=limits))
        return done

    def hand_over(wait: bool = True) -> None:
        """Give the held batches to the writer together; then, while another write is not yet committed,
        wait for it (so at most about 3 x write_rows validated sessions are in memory)."""
        writing.append(writer.submit_many(appid, [(b.sessions, b.events) for b in held]))
        held.clear()
        while wait and len(writing) > 1:
            for done in writing.popleft():
                done.result()

    def write(item: list[Any] | NdjsonLines, validated: Future[NormalisedBatch], progress: Progress) -> None:
        nonlocal offset
        try:
            batch = validated.result()
        except ApiError:
            # a line that is not JSON fails a worker's whole body: validated here, it is one rejected record
            # naming its line in the file, and the batch's other documents are stored
            assert isinstance(item, NdjsonLines)
            batch = validate(item, here=True).result()
        held.append(batch)
        if sum(b.sessions.num_rows for b in held) >= write_rows:
            hand_over()
        stats.accepted += batch.accepted
        stats.rejected += len(batch.rejected)
        for r in batch.rejected[: max(0, 5 - len(stats.first_errors))]:
            stats.first_errors.append(rejection_text(item, offset, r))
        if rejects is not None:
            rejects.writelines(rejection_record(item, offset, r) for r in batch.rejected)
        offset += len(item)
        elapsed = time.perf_counter() - start
        progress.update(task, advance=len(item), rate=f"{offset / elapsed:,.0f}/s" if elapsed > 0 else "")

    try:
        with Progress(*columns, disable=quiet, transient=False) as progress:
            task = progress.add_task(label, total=total, rate="")
            for item in batches:
                validating.append((item, validate(item)))
                while len(validating) > workers:
                    write(*validating.popleft(), progress)
            while validating:
                write(*validating.popleft(), progress)
            if held:
                hand_over()
            while writing:
                for done in writing.popleft():
                    done.result()
    finally:
        if held:  # after an error: validated batches are written, as they were before it
            hand_over(wait=False)
        writer.close()  # after an error, lets the queued batches finish first
        pool.close()
    stats.seconds = time.perf_counter() - start
    return stats


def load_documents(
    store: Store,
    settings: Settings,
    appid: str,
    docs: Iterable[Any],
    *,
    total: int | None = None,
    batch_size: int = 5_000,
    label: str = "Loading",
    quiet: bool = False,
) -> LoadStats:
    return load_batches(store, settings, appid, _chunks(docs, batch_size), total=total, label=label, quiet=quiet)
