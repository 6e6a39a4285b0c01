"""A session sent again without `uploadedServerTime` keeps the upload time it has.

`uploadedServerTime` defaults to the time of receipt (SPEC §8.1), and the upload time decides which window,
day and page a session is in. Were a retried batch (§8.2: "a client may retry any batch safely") to take the
retry's time of receipt, a retry a second later could move its sessions into the next day. So the time of
receipt is the session's first: a normalised batch marks, per session, which of its times were defaulted to
the time of receipt (the `RECEIVED` column of flags), and the store, which looks up the stored sessions a
batch replaces anyway, moves those times back to the stored session's upload time before writing. What
was derived from the upload time moves with it: `verifiedServerTime` and the start (hence the events'
times) when they were absent too, and the events' upload time. A time the document sent is never changed.

Pure Arrow; used by both stores' `write_sessions`.
"""

from __future__ import annotations

from calendar import timegm
from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

RECEIVED = "_received"  # uint8 flags per row of a normalised batch's sessions; never stored
UPLOAD, VERIFIED, STARTED = 1, 2, 4  # which times were the time of receipt


def split(sessions: pa.Table) -> tuple[pa.Table, np.ndarray | None]:
    """The sessions without the flags column, and the flags (None for a table without them)."""
    index = sessions.schema.get_field_index(RECEIVED)
    if index < 0:
        return sessions, None
    # a null flag (a table put together from one with flags and one without) means nothing defaulted
    flags = pc.fill_null(sessions.column(index), 0).to_numpy(zero_copy_only=False).astype(np.uint8)
    return sessions.remove_column(index), flags


def _seconds(value: datetime) -> int:
    return timegm(value.utctimetuple()) if value.tzinfo is not None else timegm(value.timetuple())


def _shifted(table: pa.Table, name: str, delta: np.ndarray) -> pa.Table:
    index = table.schema.get_field_index(name)
    field = table.schema.field(index)
    seconds = pc.cast(table.column(index), pa.int64())
    moved = pc.cast(pc.add(seconds, pa.array(delta, pa.int64())), field.type)
    return table.set_column(index, field, moved)


def keep_first_receipt(
    sessions: pa.Table, events: pa.Table, flags: np.ndarray | None, stored_upload: Mapping[str, datetime]
) -> tuple[pa.Table, pa.Table]:
    """Move the defaulted times of sessions the store holds (`stored_upload`: session id -> its stored upload
    time) back to that upload time; other rows, and every time a document sent, are left as they are."""
    if flags is None or not stored_upload or not (flags & UPLOAD).any():
        return sessions, events
    ids = sessions.column("session_id").to_pylist()
    uploaded = pc.cast(sessions.column("uploaded_at"), pa.int64()).to_numpy(zero_copy_only=False)
    delta = np.zeros(len(ids), dtype=np.int64)
    for i in np.flatnonzero(flags & UPLOAD):
        before = stored_upload.get(ids[i])
        if before is not None:
            delta[i] = _seconds(before) - int(uploaded[i])
    if not delta.any():
        return sessions, events
    sessions = _shifted(sessions, "uploaded_at", delta)
    sessions = _shifted(sessions, "verified_at", np.where(flags & VERIFIED, delta, 0))
    started = np.where(flags & STARTED, delta, 0)
    sessions = _shifted(sessions, "started_at", started)
    if events.num_rows:
        # each event takes its session's shift: the upload time always, its own time when the start moved
        row_of = {sid: i for i, sid in enumerate(ids)}
        owner = np.fromiter((row_of[s] for s in events.column("session_id").to_pylist()), np.int64, events.num_rows)
        events = _shifted(events, "uploaded_at", delta[owner])
        events = _shifted(events, "event_at", started[owner])
    return sessions, events
