"""The set of an app's stored session ids, as 64-bit hashes, so a write can skip looking for new ids.

Almost every ingested session is new, yet idempotency means each write must find the ids it replaces; in
the embedded store that lookup scans the app's whole session_id column (15 ms per batch at 1M sessions,
and growing with the store). This set answers "certainly not stored" for every new id, so only re-sent ids
(and, once in about 10^19 ids, a hash collision) are looked up.

It never gives a false negative: the table's hashes are read under the store's write lock the first time
an app is written in this process, the set is built from them in a thread (writes look every id up until
it is there), and every id written after that read is added. Deleted ids stay in it, which only costs a
lookup. Hashes are DuckDB's `hash()` of the id, so building it is one vectorised scan.

Why exact, not a Bloom filter: a filter with a 0.1% false-positive rate still sends a batch of 2,000 new
ids to the full scan 86% of the time, so large batches scanned on nearly every write. The set costs 8 bytes
an id (80 MB at 10M sessions), about twice the filter it replaced.

It is kept as a few sorted runs, like a binary counter: each write adds its hashes as a run, and the newest
two runs are merged while the older one is at most twice as large, so there are O(log n) runs and each
hash is merged O(log n) times. A merge sorts two concatenated sorted runs, which numpy's stable sort
(timsort) does in linear time.
"""

from __future__ import annotations

import numpy as np


class KnownIds:
    def __init__(self, hashes: np.ndarray) -> None:
        self._runs: list[np.ndarray] = []
        self.count = 0
        self.add(hashes)

    def add(self, hashes: np.ndarray) -> None:
        run = np.sort(np.asarray(hashes).astype(np.uint64, copy=False))  # a new array: the caller's stays as it is
        self.count += len(run)
        if not len(run):
            return
        self._runs.append(run)
        while len(self._runs) > 1 and len(self._runs[-2]) <= 2 * len(self._runs[-1]):
            newer, older = self._runs.pop(), self._runs.pop()
            self._runs.append(np.sort(np.concatenate([older, newer]), kind="stable"))

    def maybe(self, hashes: np.ndarray) -> np.ndarray:
        """A boolean mask: False where the id is certainly not stored (True: stored, or a hash collision)."""
        h = np.asarray(hashes).astype(np.uint64, copy=False)
        order = np.argsort(h)  # sorted probes walk each run in order: about 10x faster than random ones
        probes = h[order]
        found = np.zeros(len(h), dtype=bool)
        for run in self._runs:
            at = np.minimum(np.searchsorted(run, probes), len(run) - 1)
            found |= run[at] == probes
        out = np.empty(len(h), dtype=bool)
        out[order] = found
        return out

    @property
    def runs(self) -> int:
        return len(self._runs)
