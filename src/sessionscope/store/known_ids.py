"""The set of an app's stored session ids, as 64-bit hashes with their upload minutes, so a write can skip
looking for new ids and bound its look-up of re-sent ones.

Almost every ingested session is new, yet idempotency means each write must find the ids it replaces; in
the embedded store that lookup reads the app's whole session_id column (15 ms per batch at 1M sessions,
100-180 ms at 10M). This set answers "certainly not stored" for every new id, so only re-sent ids (and,
once in about 10^19 ids, a hash collision) are looked up. For those it also gives the range of upload
minutes under which they were written: the tables are in upload order, so the look-up reads only the row
groups of that range (a retried batch of 1,000 at 10M sessions: the look-up went from 180 ms to a few).

It never gives a false negative, and the range always holds the stored row's upload time. The table's
(hash, upload minute) pairs are read under the store's write lock the first time an app is written in
this process, the set is built from them in a thread (writes look every id up, unbounded, until it is
there), and every row written after that read is added. A stored row's upload time never changes (a
re-sent session is a new row, added with its own time). Replaced and deleted rows leave their entries,
and a write whose commit fails leaves its entries: an extra entry only costs a look-up, or widens a range.
Hashes are DuckDB's `hash()` of the id, so building it is one vectorised scan.

Why exact, not a Bloom filter: a filter with a 0.1% false-positive rate still sends a batch of 2,000 new
ids to the full scan 86% of the time, so large batches scanned on nearly every write. The set costs 12 bytes
a row (120 MB at 10M sessions): 8 for the hash, 4 for the minute.

It is kept as a few runs sorted by hash, like a binary counter: each write adds its entries as a run, and
the newest two runs are merged while the older one is at most twice as large, so there are O(log n) runs
and each entry is merged O(log n) times. A merge sorts two concatenated sorted runs by hash, which numpy's
stable sort (timsort) does in linear time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np

# Minutes are kept in 4 bytes. Ingest accepts upload times from 1970 to 2199 (minute 120,968,639); a time
# outside the range (a file edited by hand) is kept as its end, which the look-up reads as unbounded.
MAX_MINUTE = 2**32 - 1
_EPOCH = datetime(1970, 1, 1)


class Found(NamedTuple):
    """What the set says about some ids: `mask` is False where the id is certainly not stored (True: stored,
    or a hash collision); `minutes` is (first, last) upload minute over every entry of the ids it holds, or
    None when it holds none of them."""

    mask: np.ndarray
    minutes: tuple[int, int] | None

    def uploaded_between(self) -> tuple[datetime, datetime]:
        """The upload times (naive UTC) within which the ids found were written: from the first minute's
        start to the last minute's last second; an end of the minutes' range leaves that side unbounded."""
        if self.minutes is None:
            raise ValueError("no id was found, so there is no upload range")
        first, last = self.minutes
        return (datetime.min if first == 0 else _EPOCH + timedelta(minutes=first),
                datetime.max if last == MAX_MINUTE else _EPOCH + timedelta(minutes=last + 1, seconds=-1))


def upload_minutes(seconds: np.ndarray) -> np.ndarray:
    """Upload times (seconds since 1970) as the set keeps them: whole minutes, 4 bytes each."""
    return np.clip(np.asarray(seconds, dtype=np.int64) // 60, 0, MAX_MINUTE).astype(np.uint32)


class KnownIds:
    def __init__(self, hashes: np.ndarray, minutes: np.ndarray) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (hashes sorted, their upload minutes)
        self.count = 0
        self.add(hashes, minutes)

    def add(self, hashes: np.ndarray, minutes: np.ndarray) -> None:
        """Add entries: each id's hash and the minute (`upload_minutes`) of the row written for it."""
        h = np.asarray(hashes).astype(np.uint64, copy=False)
        m = np.asarray(minutes).astype(np.uint32, copy=False)
        if len(h) != len(m):
            raise ValueError(f"{len(h)} hashes but {len(m)} minutes")
        self.count += len(h)
        if not len(h):
            return
        order = np.argsort(h)  # (a quicksort: 0.5 s for 10M hashes, timsort 1.1 s)
        self._runs.append((h[order], m[order]))  # new arrays: the caller's stay as they are
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            newer, older = self._runs.pop(), self._runs.pop()
            merged = np.concatenate([older[0], newer[0]])
            order = np.argsort(merged, kind="stable")  # timsort merges the two sorted halves in linear time
            self._runs.append((merged[order], np.concatenate([older[1], newer[1]])[order]))

    def find(self, hashes: np.ndarray) -> Found:
        h = np.asarray(hashes).astype(np.uint64, copy=False)
        order = np.argsort(h)  # sorted probes walk each run in order: about 10x faster than random ones
        probes = h[order]
        found = np.zeros(len(h), dtype=bool)
        first = last = None
        for run, minutes in self._runs:
            lo = np.searchsorted(run, probes, side="left")
            hi = np.searchsorted(run, probes, side="right")
            hit = hi > lo
            if not hit.any():
                continue
            found |= hit
            # every entry of a found hash (a re-sent id has one per write): the positions lo..hi-1 of each hit
            starts, counts = lo[hit], (hi - lo)[hit]
            at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
            m = minutes[at]
            first = int(m.min()) if first is None else min(first, int(m.min()))
            last = int(m.max()) if last is None else max(last, int(m.max()))
        mask = np.empty(len(h), dtype=bool)
        mask[order] = found
        return Found(mask, None if first is None else (first, last))

    def maybe(self, hashes: np.ndarray) -> np.ndarray:
        """A boolean mask: False where the id is certainly not stored (True: stored, or a hash collision)."""
        return self.find(hashes).mask

    @property
    def runs(self) -> int:
        return len(self._runs)
