"""Per-user derived columns (sessionNumber, the user's first-session attributes) for a batch, with Arrow.

Most batches only append: each user's new sessions start after everything stored for that user. Then the
numbers and first-session values follow from a small per-user summary, and no stored row changes. Users
for whom that does not hold (a session that belongs earlier, a replaced session) are returned, and the
store renumbers them from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
    key: int | None = None  # the user's integer key, where the store keeps one (DuckDB)


def assign(sessions: pa.Table, summaries: dict[str, UserSummary], recompute: set[str]) -> tuple[pa.Table, set[str]]:
    """Fill session_number and first_* for appending users; return the users that need a full renumbering.

    Column-wise: the batch is sorted by (user, start, upload, id) once, ranks come from the group starts,
    and the first-session values are taken per user and spread to its rows. Python only loops over the
    batch's users (to compare with their summaries), never over its rows or their values.
    """
    full = set(recompute)
    n = sessions.num_rows
    if n == 0:
        return sessions, full
    order = pc.sort_indices(
        sessions, sort_keys=[(c, "ascending") for c in ("uxcamuserid", "started_at", "uploaded_at", "session_id")]
    ).to_numpy()
    users = sessions.column("uxcamuserid").combine_chunks().take(order)
    same = np.zeros(n, dtype=bool)  # same[i]: sorted row i belongs to the user of row i - 1
    if n > 1:
        a, b = users.slice(0, n - 1), users.slice(1)
        equal = pc.fill_null(pc.equal(a, b), False)
        same[1:] = pc.or_(equal, pc.and_(pc.is_null(a), pc.is_null(b))).to_numpy(zero_copy_only=False)
    group = np.cumsum(~same) - 1  # per sorted row: its user's index among the batch's users
    heads_sorted = np.flatnonzero(~same)  # per user: the sorted position of its earliest session
    heads = order[heads_sorted]  # ... and that session's row in the batch
    rank = np.arange(n) - heads_sorted[group] + 1

    group_users = users.take(pa.array(heads_sorted)).to_pylist()
    head_starts = sessions.column("started_at").take(pa.array(heads)).to_pylist()
    g = len(group_users)
    base = np.zeros(g, dtype=np.int64)
    skip = np.zeros(g, dtype=bool)  # users renumbered from scratch by the store: left empty here
    stored: list[int] = []  # users with a summary: their index
    for k, user in enumerate(group_users):
        summary = summaries.get(user)
        if user in full or (summary is not None and head_starts[k] <= summary.last_start):
            full.add(user)  # (the second case: this batch reaches back into the user's history)
            skip[k] = True
        elif summary is not None:
            base[k] = summary.count
            stored.append(k)

    # per sorted row, then back in the batch's order
    unsorted = np.empty(n, dtype=np.int64)
    unsorted[order] = np.arange(n)
    row_group = group[unsorted]
    numbers = pa.array(base[row_group] + rank[unsorted], pa.int64(), mask=skip[row_group])
    table = _set(sessions, "session_number", numbers)

    # the first-session values per user: the head row's for new users, the summary's for stored ones
    has_summary = np.zeros(g, dtype=bool)
    has_summary[stored] = True
    new = np.flatnonzero(~skip & ~has_summary)
    pick = np.full(g, -1, dtype=np.int64)  # per user: its index in (values of new users + values of stored)
    pick[new] = np.arange(len(new))
    pick[stored] = len(new) + np.arange(len(stored))
    per_user_index = pa.array(pick, mask=pick < 0)
    row_index = pa.array(row_group)
    for j, c in enumerate(FIRST_COLUMNS):
        kind = table.schema.field(c).type
        own = _first_screen(sessions, heads[new]) if c == "first_screen_name" else (
            sessions.column(SOURCE_OF_FIRST[c]).combine_chunks().take(pa.array(heads[new], pa.int64())))
        kept = pa.array([plain(summaries[group_users[k]].first[j]) for k in stored], kind)
        values = pa.concat_arrays([own.cast(kind), kept]).take(per_user_index).take(row_index)
        table = _set(table, c, values)
    return table, full


def _first_screen(sessions: pa.Table, rows: np.ndarray) -> pa.Array:
    """The first screen of each of `rows`, null where a session has no screens."""
    screens = sessions.column("screens").combine_chunks().take(pa.array(rows, pa.int64()))
    has = pc.fill_null(pc.greater(pc.list_value_length(screens), 0), False).to_numpy(zero_copy_only=False)
    firsts = pc.list_flatten(pc.list_slice(screens.filter(pa.array(has)), 0, 1))
    index = np.full(len(rows), -1, dtype=np.int64)
    index[has] = np.arange(int(has.sum()))
    return firsts.take(pa.array(index, mask=index < 0))


def plain(value: Any) -> Any:
    """A stored value as pa.array takes it (an engine may return a map as a dict)."""
    return list(value.items()) if isinstance(value, dict) else value


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, table.schema.field(index), values)
