"""Prometheus text metrics kept in process: request counts and latency by route and status."""

from __future__ import annotations

import threading
from collections import defaultdict

# counters other than the request ones: name (without the prefix) → help text; exported from 0
COUNTERS = {"ingested_sessions_total": "Sessions accepted by POST /v2/ingest/sessions (a re-sent one counted again)."}
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[tuple[str, str], list[float]] = {}
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            hist = self.latency.setdefault((method, route), [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    hist[i] += 1
            hist[-2] += 1  # count
            hist[-1] += seconds  # sum

    def add(self, name: str, value: int = 1) -> None:
        if name not in COUNTERS:
            raise KeyError(f"undeclared counter {name!r}: add it to COUNTERS with its help text")
        with self._lock:
            self.counters[name] += value

    def render(self) -> str:
        lines = [
            "# HELP sessionscope_http_requests_total HTTP requests by method, route and status.",
            "# TYPE sessionscope_http_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                lines.append(f'sessionscope_http_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}')
            lines += [
                "# HELP sessionscope_http_request_seconds HTTP request latency.",
                "# TYPE sessionscope_http_request_seconds histogram",
            ]
            for (method, route), hist in sorted(self.latency.items()):
                labels = f'method="{method}",route="{route}"'
                for i, bound in enumerate(BUCKETS):
                    lines.append(f'sessionscope_http_request_seconds_bucket{{{labels},le="{bound}"}} {int(hist[i])}')
                lines.append(f'sessionscope_http_request_seconds_bucket{{{labels},le="+Inf"}} {int(hist[-2])}')
                lines.append(f"sessionscope_http_request_seconds_count{{{labels}}} {int(hist[-2])}")
                lines.append(f"sessionscope_http_request_seconds_sum{{{labels}}} {hist[-1]:.6f}")
            for name, value in sorted(self.counters.items()):
                lines += [
                    f"# HELP sessionscope_{name} {COUNTERS[name]}",
                    f"# TYPE sessionscope_{name} counter",
                    f"sessionscope_{name} {value}",
                ]
        return "\n".join(lines) + "\n"
