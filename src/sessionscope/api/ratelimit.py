"""Per-app rate limits on read endpoints (SPEC §10): token buckets, off unless configured.

`SESSIONSCOPE_RATE_LIMIT_PER_SECOND` and `..._PER_HOUR` each give an app a bucket of that many requests,
refilled continuously (per second: `rate` tokens a second; per hour: `rate / 3600` a second). A request takes
one token from each bucket; when one is empty the answer is `429` with `Retry-After` (whole seconds until
a token is back) and nothing is taken.

The check runs right after authentication (`deps.read_app`), keyed by the authenticated app: a caller that
only knows an app id cannot spend that app's budget with wrong keys, and the table holds one entry per
real app, however many ids strangers send.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ApiError


@dataclass
class _Bucket:
    capacity: float
    per_second: float  # refill rate
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now

    def wait(self) -> float:
        """Seconds until one token is available (0 when one is)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.per_second


class RateLimiter:
    """Token buckets per app: one per configured limit (requests per second, per hour)."""

    def __init__(self, per_second: int = 0, per_hour: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        # (capacity, refill per second, how the limit reads in messages)
        self._limits = [
            (float(n), n / span, f"{n} requests per {unit}")
            for n, span, unit in ((per_second, 1.0, "second"), (per_hour, 3600.0, "hour"))
            if n > 0
        ]
        self._clock = clock
        self._buckets: dict[str, list[_Bucket]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self._limits)

    def check(self, appid: str) -> None:
        """Take one request from the app's budget, or raise the 429 to answer."""
        if not self._limits:
            return
        with self._lock:
            now = self._clock()
            buckets = self._buckets.get(appid)
            if buckets is None:
                buckets = [_Bucket(cap, rate, cap, now) for cap, rate, _ in self._limits]
                self._buckets[appid] = buckets
            for b in buckets:
                b.refill(now)
            waits = [b.wait() for b in buckets]
            if max(waits) > 0:
                i = max(range(len(waits)), key=waits.__getitem__)
                retry = max(1, math.ceil(waits[i]))
                raise ApiError(
                    429,
                    f"Rate limit exceeded: this app may make {self._limits[i][2]}; retry after {retry} s.",
                    headers={"Retry-After": str(retry)},
                )
            for b in buckets:
                b.tokens -= 1
