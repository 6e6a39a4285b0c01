"""The store interface every engine implements; the rest of the code sees only this."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from ..query.dialects import Dialect
from .results import ResultCache


@dataclass(frozen=True)
class Erased:
    """What erasing some users removed from an app (or, in a dry run, would remove)."""

    users: list[str]  # their uxcamuserids, sorted
    sessions: int
    events: int
    session_ids: list[str]  # sorted
    videos: list[str]  # the ids of those sessions with a recorded replay, sorted


class Store(Protocol):
    dialect: Dialect
    # results kept until the store's next write (disabled, max_entries 0, where other processes may write)
    results: ResultCache

    def query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Run a read query with bound parameters and return its rows."""
        ...

    def query_arrow(self, sql: str, params: Sequence[Any]) -> pa.Table:
        """Run a read query with bound parameters and return an Arrow table."""
        ...

    def query_batches(self, sql: str, params: Sequence[Any], batch_rows: int = 10_000) -> Iterator[pa.RecordBatch]:
        """Run a read query and stream its rows as Arrow record batches of about `batch_rows` rows, never
        holding the whole result (export). Closing the iterator ends the query."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one write statement in its own transaction."""
        ...

    def write_sessions(self, app_id: str, sessions: pa.Table, events: pa.Table) -> None:
        """Replace-or-insert a batch of sessions and their events atomically and durably."""
        ...

    def videos_for(self, app_id: str, session_ids: list[str]) -> dict[str, tuple[str, str, int]]:
        """session_id -> (path, content type, size) for the given sessions that have an uploaded video."""
        ...

    def put_video(self, app_id: str, session_id: str, path: str, content_type: str, size: int) -> bool:
        """Record a session's video and set hasVideo; False when the session does not exist."""
        ...

    def erase_users(
        self, app_id: str, users: list[str], identities: list[str], *, dry_run: bool = False,
        before_commit: Callable[[Erased], None] | None = None,
    ) -> Erased:
        """Delete every session, event and video row of the app's users named by uxcamuserid (`users`) or
        by a user identity one of their sessions carries (`identities`). `before_commit` runs once the rows
        are deleted and before that is committed (it removes the video files: an erasure that fails after it
        is finished by running it again). A dry run deletes nothing and reports what it would."""
        ...

    def remove_app(self, app_id: str) -> None:
        """Delete an app and every row it owns, its key hashes included."""
        ...

    def checkpoint(self) -> None:
        """Fold what the engine keeps in a log into its store files (a clean stop's last step); may do nothing."""
        ...

    def close(self) -> None: ...
