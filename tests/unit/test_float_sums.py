"""Float sums and averages are the same on every run of a query, and the same on both engines.

A plain float sum depends on the order the engine's threads add the values in; at a few thousand sessions
DuckDB's plain `avg` gave up to 11 different last digits in 40 runs of one request. DuckDB now adds floats
with compensated summation (fsum/favg), ClickHouse as exact integers (see query/dialects; its own
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
            # both give the exactly rounded sum here (ClickHouse always, for values of 2^-38 or more;
            # DuckDB's compensated sum on these), so the same bits
            assert a == b
    finally:
        duck.close()
        ch.close()


# awkward values: fractions with no exact binary form, a total far above its smallest parts, a tiny one
DURATIONS = [0.1] * 10 + [0.3] * 10 + [2.675, 1234.5678, 1e9 - 0.5, 1e-9, 7.0, 0.7, 19.99]  # durations are at most 1e9 s


def _docs(values: list[float], orders: list[int]) -> list[dict]:
    return [
        {"sessionId": f"f{i}", "user": {"uxcamuserid": f"u{i % 3}", "orders": orders[i % len(orders)]},
         "property": {"uploadedServerTime": "2026-10-20T10:00:00Z", "durationSec": v}}
        for i, v in enumerate(values)
    ]


@pytest.mark.parametrize("engine", ["duckdb", "chdb"])
def test_sums_and_averages_are_the_exactly_rounded_ones(engine: str, tmp_path: Path) -> None:
    """A float sum is the exact sum of the stored values rounded once (math.fsum), and an average of whole
    numbers is that number: ClickHouse's own decimal-to-float conversion gave 4.000000000000001 for 4, 4, 4."""
    s = DuckDBStore(str(tmp_path / "s.duckdb"), result_cache=0) if engine == "duckdb" else ChdbStore(str(tmp_path / "ch"))
    try:
        b = normalise_batch(APP, _docs(DURATIONS, [4]), now=NOW.replace(tzinfo=None), limits=Limits())
        assert not b.rejected
        s.write_sessions(APP, b.sessions, b.events)
        params = {"filters": json.dumps([WINDOW]), "aggregation": json.dumps([
            {"attribute": "session_duration", "operator": "sum"},
            {"attribute": "session_duration", "operator": "avg"},
            {"attribute": "user_custom_property", "property_name": "orders", "operator": "avg"},
            {"attribute": "user_custom_property", "property_name": "orders", "operator": "sum"},
            {"attribute": "user_custom_property", "property_name": "none_has_it", "operator": "sum"},
            {"attribute": "user_custom_property", "property_name": "none_has_it", "operator": "avg"}])}
        settings = Settings(data_dir=Path("/nonexistent"), secret_key="k" * 32)
        row = analytics.session_analytics(s, settings, APP, params, NOW)["data"][0]
        assert row["sum_session_duration"] == math.fsum(DURATIONS)
        assert row["avg_session_duration"] == math.fsum(DURATIONS) / len(DURATIONS)
        assert row["avg_user_custom_property_orders"] == 4.0
        assert row["sum_user_custom_property_orders"] == 4.0 * len(DURATIONS)
        # over no values at all: null, not 0
        assert row["sum_user_custom_property_none_has_it"] is None
        assert row["avg_user_custom_property_none_has_it"] is None
    finally:
        s.close()


def test_clickhouse_float_sums_are_math_fsum_bit_for_bit(tmp_path: Path) -> None:
    """The ClickHouse sum and average expressions over random groups (fractions, signed values, durations
    with few decimals, magnitudes from 1e-9 to 1e12, cancelling pairs) against Python's exactly rounded
    math.fsum. Decimal256 sums, the way before, were a unit in the last place off in about one group in
    ten and lost values under 1e-30."""
    import random
    import struct

    from sessionscope.query.dialects.clickhouse import CLICKHOUSE

    def bits(v: float) -> int:
        return struct.unpack("<Q", struct.pack("<d", v))[0]

    rnd = random.Random(7)
    draws = [
        rnd.random,
        lambda: rnd.uniform(-1000, 1000),
        lambda: round(rnd.uniform(0, 600), rnd.randint(0, 3)),
        lambda: rnd.choice([rnd.random(), rnd.random() * 1e12, rnd.random() * 1e-9]),
    ]
    groups = [[draws[g % 4]() for _ in range(rnd.randint(1, 60))] for g in range(200)]
    groups += [[v, -v + rnd.random() * 1e-12] for v in (0.3, 0.1, 10.7, 1e-3)]  # near-total cancellation
    store = ChdbStore(str(tmp_path / "ch"))
    try:
        store.driver.command("CREATE TABLE t (g UInt32, x Nullable(Float64)) ENGINE = MergeTree ORDER BY g", {})
        rows = ", ".join(
            f"({g}, reinterpretAsFloat64(toUInt64({bits(v)})))" for g, vals in enumerate(groups) for v in vals
        )
        store.driver.command(f"INSERT INTO t VALUES {rows}", {})
        total = CLICKHOUSE.expressions["agg_sum"].format(x="x")
        mean = CLICKHOUSE.expressions["agg_avg"].format(x="x")
        got = store.query(f"SELECT g, {total}, {mean} FROM t GROUP BY g ORDER BY g", {})
    finally:
        store.close()
    assert len(got) == len(groups)
    for (g, s, a), vals in zip(got, groups, strict=True):
        assert s == math.fsum(vals), (g, s, math.fsum(vals))
        assert a == math.fsum(vals) / len(vals), g


def test_clickhouse_float_sums_at_the_edges(tmp_path: Path) -> None:
    """NULLs among values add nothing; only NULLs, or no rows at all, give NULL; inf and nan give what a float
    sum gives; values an Int64 might not hold fall back to the plain sum; 2^53 + 1 + 1 is still exact."""
    from sessionscope.query.dialects.clickhouse import CLICKHOUSE

    inf, nan = math.inf, math.nan
    groups: list[list[float | None]] = [
        [1.5, None, 2.25, None],
        [None, None],
        [1.0, inf],
        [-inf, 2.0],
        [inf, -inf],
        [nan, 1.0],
        [1e18, 1.0],  # out of the integer range: the plain sum
        [1e17] * 100,  # |value| x count >= 9e18: the plain sum
        [2.0**53, 1.0, 1.0],  # a plain left-to-right sum gives 2^53
        [0.1, None, 0.2, -0.3],
    ]
    store = ChdbStore(str(tmp_path / "ch"))
    try:
        store.driver.command("CREATE TABLE t (g UInt32, x Nullable(Float64)) ENGINE = MergeTree ORDER BY g", {})
        rows = ", ".join(f"({g}, {'NULL' if v is None else repr(v)})" for g, vals in enumerate(groups) for v in vals)
        store.driver.command(f"INSERT INTO t VALUES {rows}", {})
        total = CLICKHOUSE.expressions["agg_sum"].format(x="x")
        mean = CLICKHOUSE.expressions["agg_avg"].format(x="x")
        got = store.query(f"SELECT g, {total}, {mean} FROM t GROUP BY g ORDER BY g", {})
        nothing = store.query(f"SELECT {total}, {mean} FROM t WHERE g > 1000", {})
    finally:
        store.close()
    assert nothing == [(None, None)]
    assert len(got) == len(groups)
    for (g, s, a), vals in zip(got, groups, strict=True):
        present = [v for v in vals if v is not None]
        if not present:
            assert (s, a) == (None, None), g
            continue
        want = math.fsum(present) if all(math.isfinite(v) for v in present) else sum(present)
        if math.isnan(want):
            assert math.isnan(s) and math.isnan(a), (g, s, a)
        else:
            assert (s, a) == (want, want / len(present)), (g, s, a, want)
