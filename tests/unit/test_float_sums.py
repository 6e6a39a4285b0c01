"""Float sums and averages are the same on every run of a query, and the same on both engines.

A plain float sum depends on the order the engine's threads add the values in; at a few thousand sessions
DuckDB's plain `avg` gave up to 11 different last digits in 40 runs of one request. DuckDB now adds floats
with compensated summation (fsum/favg), ClickHouse as exact decimals (see query/dialects; its own
compensated sumKahan still varied from run to run)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sessionscope import analytics
from sessionscope.demo import generate_sessions
from sessionscope.ingest import Limits, normalise_batch
from sessionscope.settings import Settings
from sessionscope.store.chdb import ChdbStore
from sessionscope.store.duckdb import DuckDBStore

APP = "f1" * 12
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
WINDOW = {"attribute": "date_range", "operator": "between_dates", "value": {"lower": "2026-09-01", "upper": "2026-11-02"}}
REQUESTS = {
    "session": {"filters": json.dumps([WINDOW]),
                "aggregation": json.dumps([{"attribute": "session_duration", "operator": "avg"},
                                           {"attribute": "session_duration", "operator": "sum"},
                                           {"attribute": "user_session_duration", "operator": "avg"},
                                           {"attribute": "session_crashed", "operator": "avg"}])},
    "user": {"filters": json.dumps([WINDOW])},  # avg_user_session_duration: an average of per-user float sums
}


@pytest.fixture(scope="module")
def batch() -> Any:
    docs = list(generate_sessions(6000, days=40, seed=12, now=NOW))
    b = normalise_batch(APP, docs, now=NOW.replace(tzinfo=None), limits=Limits())
    assert not b.rejected
    return b


@pytest.fixture(params=["duckdb", "chdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path, batch: Any) -> Iterator[Any]:
    s = (DuckDBStore(str(tmp_path / "s.duckdb"), result_cache=0) if request.param == "duckdb"
         else ChdbStore(str(tmp_path / "ch")))
    s.write_sessions(APP, batch.sessions, batch.events)
    yield s
    s.close()


def floats(store: Any, resource: str, runs: int) -> list[dict[str, float]]:
    settings = Settings(data_dir=Path("/nonexistent"), secret_key="k" * 32)
    out = []
    for _ in range(runs):
        doc = analytics.resource_analytics(store, settings, APP, resource, REQUESTS[resource], NOW)
        out.append({k: v for k, v in doc["data"][0].items() if isinstance(v, float)})
    return out


@pytest.mark.parametrize("resource", list(REQUESTS))
def test_the_same_request_gives_the_same_floats_every_run(store: Any, resource: str) -> None:
    answers = floats(store, resource, 25)
    assert answers[0], "the request has float metrics"
    for key in answers[0]:
        assert len({a[key] for a in answers}) == 1, (key, sorted({a[key] for a in answers}))


def test_both_engines_agree(tmp_path: Path, batch: Any) -> None:
    duck = DuckDBStore(str(tmp_path / "s.duckdb"), result_cache=0)
    ch = ChdbStore(str(tmp_path / "ch"))
    try:
        for s in (duck, ch):
            s.write_sessions(APP, batch.sessions, batch.events)
        for resource in REQUESTS:
            a, b = floats(duck, resource, 1)[0], floats(ch, resource, 1)[0]
            assert a.keys() == b.keys()
            # ClickHouse's decimals start from each value times 1e30 in floating point, so the two may
            # differ in the last bits
            for key in a:
                assert math.isclose(a[key], b[key], rel_tol=1e-13), (key, a[key], b[key])
    finally:
        duck.close()
        ch.close()
