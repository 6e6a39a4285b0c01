"""A Bloom filter of the session ids an app has stored, so a write can skip looking for them.

Almost every ingested session is new, yet idempotency means each write must find the ids it replaces; in
the embedded store that lookup scans the app's whole session_id column (19 ms per batch at 1M sessions,
and growing with the store). The filter answers "certainly not stored" for nearly all new ids, so only the
few "maybe" ids (re-sent sessions, about 0.3% false positives) are looked up.

It never gives a false negative: the table's hashes are read under the store's write lock the first time
an app is written in this process, the filter is built from them in a thread (seconds at 10M ids; writes
look every id up until it is there), and every id written after that read is added. Deleted ids stay in it, which
only costs a lookup. Hashes are DuckDB's `hash()` of the id, so building it is one vectorised scan.
"""

from __future__ import annotations

import numpy as np

BITS_PER_ID = 16  # with 4 probes: about 0.24% false positives at full capacity
PROBES = 4
MIN_BITS = 1 << 16


class KnownIds:
    def __init__(self, hashes: np.ndarray) -> None:
        self.count = 0
        bits = MIN_BITS
        while bits < 2 * BITS_PER_ID * max(len(hashes), 1):  # room to double before the next rebuild
            bits <<= 1
        self._mask = np.uint64(bits - 1)
        self._bits = np.zeros(bits // 8, dtype=np.uint8)
        self.add(hashes)

    @property
    def full(self) -> bool:
        return self.count * BITS_PER_ID > len(self._bits) * 8

    def _positions(self, hashes: np.ndarray) -> np.ndarray:
        h = hashes.astype(np.uint64, copy=False)
        h1 = h & np.uint64(0xFFFFFFFF)
        h2 = (h >> np.uint64(32)) | np.uint64(1)
        probes = np.arange(PROBES, dtype=np.uint64)
        return (h1[:, None] + probes[None, :] * h2[:, None]) & self._mask  # shape (n, PROBES)

    def add(self, hashes: np.ndarray) -> None:
        if len(hashes) == 0:
            return
        pos = self._positions(hashes).ravel()
        np.bitwise_or.at(self._bits, (pos >> np.uint64(3)).astype(np.intp), (1 << (pos & np.uint64(7))).astype(np.uint8))
        self.count += len(hashes)

    def maybe(self, hashes: np.ndarray) -> np.ndarray:
        """A boolean mask: False where the id is certainly not stored."""
        if len(hashes) == 0:
            return np.zeros(0, dtype=bool)
        pos = self._positions(hashes)
        hit = (self._bits[(pos >> np.uint64(3)).astype(np.intp)] >> (pos & np.uint64(7)).astype(np.uint8)) & 1
        return hit.all(axis=1)
