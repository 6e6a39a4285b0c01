"""The per-app token buckets of api/ratelimit.py, on a fake clock."""

from __future__ import annotations

import pytest

from sessionscope.api.ratelimit import RateLimiter
from sessionscope.errors import ApiError


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_off_by_default() -> None:
    limiter = RateLimiter()
    assert not limiter.enabled
    for _ in range(10_000):
        limiter.check("a")


def test_per_second_bucket_refills_continuously() -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=3, clock=clock)
    for _ in range(3):
        limiter.check("a")
    with pytest.raises(ApiError) as err:
        limiter.check("a")
    assert err.value.status == 429 and err.value.code == "rate_limited"
    assert err.value.headers == {"Retry-After": "1"}
    assert err.value.body()["error"]["message"].startswith("Rate limit exceeded: this app may make 3 requests per second")
    limiter.check("b")  # every app has its own budget
    clock.t += 1 / 3  # one token back
    limiter.check("a")
    with pytest.raises(ApiError):
        limiter.check("a")


def test_a_refused_request_takes_nothing() -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=1, clock=clock)
    limiter.check("a")
    for _ in range(5):
        with pytest.raises(ApiError):
            limiter.check("a")
    clock.t += 1.0
    limiter.check("a")


def test_per_hour_bucket_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=100, per_hour=2, clock=clock)
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(ApiError) as err:
        limiter.check("a")
    assert err.value.headers == {"Retry-After": "1800"}  # one request every 30 minutes
    assert "2 requests per hour" in err.value.message
    clock.t += 1800
    limiter.check("a")
