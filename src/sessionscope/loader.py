"""Bulk loading in-process (demo, import): batches through the same validation and write as HTTP ingest."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

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


def load_batches(
    store: Store,
    settings: Settings,
    appid: str,
    batches: Iterable[list[Any]],
    *,
    total: int | None = None,
    total_bytes: int | None = None,
    label: str = "Loading",
    quiet: bool = False,
) -> LoadStats:
    """Validate and write each batch; a progress bar counts sessions."""
    from .ingest import Limits, gc_paused, normalise_batch
    from .ingest.writer import GroupWriter

    limits = Limits.from_settings(settings)
    writer = GroupWriter(store)
    pending: deque[Future[None]] = deque()  # batches handed to the writer, not yet committed
    stats = LoadStats()
    start = time.perf_counter()
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[rate]}"), TimeRemainingColumn()]
    try:
        with Progress(*columns, disable=quiet, transient=False) as progress:
            task = progress.add_task(label, total=total, rate="")
            offset = 0
            for docs in batches:
                now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
                with gc_paused():
                    batch = normalise_batch(appid, docs, now=now, limits=limits)
                # validate the next batch while the writer thread commits this one; at most two wait
                pending.append(writer.submit(appid, batch.sessions, batch.events))
                while len(pending) > 2:
                    pending.popleft().result()
                stats.accepted += batch.accepted
                stats.rejected += len(batch.rejected)
                for r in batch.rejected[: max(0, 5 - len(stats.first_errors))]:
                    stats.first_errors.append(f"#{offset + r['index']} {r.get('sessionId')}: {'; '.join(r['errors'])}")
                offset += len(docs)
                elapsed = time.perf_counter() - start
                progress.update(task, advance=len(docs), rate=f"{offset / elapsed:,.0f}/s" if elapsed > 0 else "")
            while pending:
                pending.popleft().result()
    finally:
        writer.close()  # after an error, lets the queued batches finish first
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
