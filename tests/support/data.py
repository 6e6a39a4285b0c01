"""Generated test data that is the same on every run, whatever the hour.

`generate_sessions` draws upload times by the hour of the week, so the documents it yields (not only their
times) depend on `now`: a filter that matched dozens of sessions at one hour matched none at another, and
a test that needs a few matches failed about one run in fifteen. `recent_sessions` generates at one fixed
instant and moves the documents' times to end at `now`, so only the times change from run to run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sessionscope.demo import generate_sessions

REFERENCE = datetime(2026, 11, 27, 20, 53, 20, tzinfo=UTC)
_TIMES = ("uploadedServerTime", "deviceLocalDateTime", "verifiedServerTime")
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def recent_sessions(n: int, *, days: int, seed: int, now: datetime) -> Iterator[dict]:
    """`generate_sessions(n, days=days, seed=seed)` as of REFERENCE, its times moved to end at `now`."""
    delta = now.replace(microsecond=0) - REFERENCE
    for doc in generate_sessions(n, days=days, seed=seed, now=REFERENCE):
        prop = doc.get("property") or {}
        for key in _TIMES:
            if isinstance(prop.get(key), str):
                prop[key] = (datetime.strptime(prop[key], _FORMAT).replace(tzinfo=UTC) + delta).strftime(_FORMAT)
        yield doc


def store_for_apps(store: Any, apps: Sequence[str], docs: list[dict], now: datetime) -> Any:
    """Validate `docs` and write them for each of `apps` (every document must be valid); the store back."""
    from sessionscope.ingest import Limits, normalise_batch

    for app in apps:
        batch = normalise_batch(app, docs, now=now, limits=Limits())
        assert not batch.rejected, batch.rejected[:1]
        store.write_sessions(app, batch.sessions, batch.events)
    return store
