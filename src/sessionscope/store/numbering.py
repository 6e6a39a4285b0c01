"""Per-user derived columns (sessionNumber, the user's first-session attributes) for a batch, in Python.

Most batches only append: each user's new sessions start after everything stored for that user. Then the
numbers and first-session values follow from a small per-user summary, and no stored row changes. Users
for whom that does not hold (a session that belongs earlier, a replaced session) are returned, and the
store renumbers them from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

FIRST_COLUMNS = ("first_referer", "first_referer_domain", "first_screen_name", "first_utm", "first_utm_map")
SOURCE_OF_FIRST = {
    "first_referer": "referer",
    "first_referer_domain": "referer_domain",
    "first_utm": "utm",
    "first_utm_map": "utm_map",
}


@dataclass(frozen=True)
class UserSummary:
    """What is stored for a user: how many sessions, the latest start, and the first-session values."""

    count: int
    last_start: datetime
    first: tuple[Any, ...]  # values of FIRST_COLUMNS


def assign(sessions: pa.Table, summaries: dict[str, UserSummary], recompute: set[str]) -> tuple[pa.Table, set[str]]:
    """Fill session_number and first_* for appending users; return the users that need a full renumbering."""
    users = sessions.column("uxcamuserid").to_pylist()
    starts = sessions.column("started_at").to_pylist()
    uploads = sessions.column("uploaded_at").to_pylist()
    ids = sessions.column("session_id").to_pylist()
    by_user: dict[str, list[int]] = {}
    for i, user in enumerate(users):
        by_user.setdefault(user, []).append(i)

    numbers: list[int | None] = [None] * len(users)
    firsts: dict[str, list[Any]] = {c: [None] * len(users) for c in FIRST_COLUMNS}
    sources = {c: sessions.column(src).to_pylist() for c, src in SOURCE_OF_FIRST.items()}
    screens = sessions.column("screens").to_pylist()
    full = set(recompute)
    for user, rows in by_user.items():
        if user in full:
            continue
        rows.sort(key=lambda i: (starts[i], uploads[i], ids[i]))
        summary = summaries.get(user)
        if summary is not None and starts[rows[0]] <= summary.last_start:
            full.add(user)  # this batch reaches back into the user's history
            continue
        if summary is None:
            head = rows[0]
            first = tuple(
                (screens[head][0] if screens[head] else None) if c == "first_screen_name" else sources[c][head]
                for c in FIRST_COLUMNS
            )
            base = 0
        else:
            first, base = summary.first, summary.count
        for rank, i in enumerate(rows, start=1):
            numbers[i] = base + rank
            for c, value in zip(FIRST_COLUMNS, first, strict=True):
                firsts[c][i] = value
    table = _set(sessions, "session_number", pa.array(numbers, pa.int64()))
    for c in FIRST_COLUMNS:
        table = _set(table, c, pa.array(firsts[c], table.schema.field(c).type))
    return table, full


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, table.schema.field(index), values)
