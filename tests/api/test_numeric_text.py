"""Custom properties are text; where a number is needed they are read as one only when the text is a number in
plain decimal notation with a finite value (docs/api.md, Filters) — the same on both engines (SPEC §11).

Found by a differential fuzz: DuckDB read "1_000", "NaN" and "inf" as numbers and chDB only some of them; one
infinite value made a group's sum and average null; chDB never matched `equal` 9007199254740993 (an integer
past 2^53) against a stored "9007199254740993"; and analytics rows were ordered by their unrounded
percentiles but showed the rounded ones, so equal-looking values came out of order.

Every expectation here is computed in this file from the values sent (`reads`), not by the server's code."""

from __future__ import annotations

import json
import math
import re
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from support.engines import store_url
from support.server import one_app

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
WINDOW = {"attribute": "date_range", "operator": "between_dates",
          "value": {"lower": f"{NOW - timedelta(days=2):%Y-%m-%d}", "upper": f"{NOW:%Y-%m-%dT%H:%M:%SZ}"}}
# each user's `score`, as sent: JSON numbers, numeric texts, and texts that are not plain decimal numbers
SCORES: list[object] = [
    "10", " 5", "10 ", "5.0", 5.0, 5, "1e3", 1000, "+7", "-3", ".5", "5.", 2.25, "7.25",
    "1_000", "NaN", "nan", "inf", "-inf", "Infinity", "0x10", "1e999", "１０", "1,000", "", "abc", "--5",
    9007199254740993, "9007199254740993", 1e300, "1e300",
]
_PLAIN = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", re.ASCII)


def reads(value: object) -> float | None:
    """The number a stored value is, by the documented rule, else None."""
    text = value if isinstance(value, str) else json.dumps(value)
    if not _PLAIN.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def doc(k: int, score: object) -> dict:
    return {
        "sessionId": f"n-{k}",
        "property": {"uploadedServerTime": (NOW - timedelta(minutes=k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "durationSec": 10.0 + k},
        "user": {"uxcamuserid": f"u-{k}", "score": score},
        "device": {"platform": "android", "model": f"M-{k % 3}"},
        "events": [{"name": "Add to cart", "timeSec": 1.0, "properties": {"price": score}}],
    }


# Two models whose p95 durations both show 40.0: T-a's is 39.99999999999999 before rounding (0 and
# 42.10526315789473: 0 + 42.10526315789473 x 0.95 on both engines), T-b's 40.0 exactly. Uploaded 3 days ago,
# outside WINDOW.
TIES_WINDOW = {"attribute": "date_range", "operator": "between_dates",
               "value": {"lower": f"{NOW - timedelta(days=3, hours=1):%Y-%m-%dT%H:%M:%SZ}",
                         "upper": f"{NOW - timedelta(days=3) + timedelta(minutes=1):%Y-%m-%dT%H:%M:%SZ}"}}
TIES = [
    {"sessionId": f"t-{model}-{k}", "user": {"uxcamuserid": f"t-{model}-{k}"},
     "property": {"uploadedServerTime": (NOW - timedelta(days=3, minutes=k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "durationSec": duration},
     "device": {"platform": "ios", "model": f"T-{model}"}}
    for model, durations in (("a", (0.0, 42.10526315789473)), ("b", (40.0, 40.0)))
    for k, duration in enumerate(durations)
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, engine: str):  # type: ignore[no-untyped-def]
    data_dir = tmp_path_factory.mktemp(f"numeric-{engine}")
    with one_app(data_dir, store_url(engine, data_dir), "numeric") as (srv, client, app):
        docs = [doc(k, s) for k, s in enumerate(SCORES)] + TIES
        r = client.post("/v2/ingest/sessions", json=docs, headers=app.ingest_headers)
        assert r.status_code == 200 and r.json()["accepted"] == len(docs), r.text
        yield srv, client, app


def matching(server, condition: dict) -> set[str]:  # type: ignore[no-untyped-def]
    _, client, app = server
    r = client.get("/v2/session", params={"filters": json.dumps([WINDOW, condition]), "page_size": 500},
                   headers=app.read_headers)
    assert r.status_code == 200, r.text
    return {s["sessionId"] for s in r.json()["data"]}


def expected(test) -> set[str]:  # type: ignore[no-untyped-def]
    return {f"n-{k}" for k, s in enumerate(SCORES) if (n := reads(s)) is not None and test(n)}


@pytest.mark.parametrize(
    ("operator", "value", "test"),
    [
        ("equal", 1000, lambda n: n == 1000),
        ("greater_or_equal", "10", lambda n: n >= 10),  # (equal with a text compares text: docs/api.md)
        ("not_equal", 5, lambda n: n != 5),
        ("greater", 5, lambda n: n > 5),
        ("less_or_equal", "0.5", lambda n: n <= 0.5),
        ("equal", 9007199254740993, lambda n: n == float(9007199254740993)),
        ("greater", 1e299, lambda n: n > 1e299),
    ],
)
def test_a_custom_property_reads_as_a_number_only_in_plain_decimal_notation(  # type: ignore[no-untyped-def]
    server, operator: str, value: object, test
) -> None:
    want = expected(test)
    if operator == "not_equal":  # a negative operator also takes the sessions whose value is not a number
        want |= {f"n-{k}" for k, s in enumerate(SCORES) if reads(s) is None}
    condition = {"attribute": "user_custom_property", "property_name": "score", "operator": operator, "value": value}
    assert matching(server, condition) == want
    # an event property is read by the same rule
    event = {"attribute": "event_name", "operator": "in", "value": ["Add to cart"],
             "property": {"name": "price", "operator": operator, "value": value}}
    if operator != "not_equal":  # (an event property condition is positive: "had such an event whose price …")
        assert matching(server, event) == want


def test_aggregates_skip_values_that_are_not_numbers(server) -> None:  # type: ignore[no-untyped-def]
    """sum, avg, min, max and p50 over the values that read as numbers (one "inf" made sum and avg null)."""
    _, client, app = server
    numbers = [n for s in SCORES if (n := reads(s)) is not None]
    ops = ("sum", "avg", "min", "max", "p50")
    r = client.get("/v2/session/analytics", headers=app.read_headers, params={
        "filters": json.dumps([WINDOW]),
        "aggregation": json.dumps([{"attribute": "user_custom_property", "property_name": "score", "operator": op}
                                   for op in ops]),
    })
    assert r.status_code == 200, r.text
    row = r.json()["data"][0]
    assert row["session_count"] == len(SCORES)
    want = {"sum": math.fsum(numbers), "avg": math.fsum(numbers) / len(numbers), "min": min(numbers),
            "max": max(numbers), "p50": statistics.median(numbers)}
    for op in ops:
        assert row[f"{op}_user_custom_property_score"] == pytest.approx(want[op], rel=1e-12), op


def test_rows_ordered_by_a_percentile_follow_the_values_they_show(server) -> None:  # type: ignore[no-untyped-def]
    """Groups whose p95 shows the same value are ordered by group value, whatever the last bits of the
    interpolation were: T-a (39.99999999999999, shown 40.0) before T-b (40.0)."""
    _, client, app = server
    r = client.get("/v2/session/analytics", headers=app.read_headers, params={
        "filters": json.dumps([TIES_WINDOW]),
        "group_by": json.dumps([{"attribute": "device_model"}]),
        "aggregation": json.dumps([{"attribute": "session_duration", "operator": "p95"}]),
    })
    assert r.status_code == 200, r.text
    rows = [(-row["p95_session_duration"], row["device_model"]) for row in r.json()["data"]]
    assert rows == [(-40.0, "T-a"), (-40.0, "T-b")]
    # and each shown value is the independent p95 of that model's durations, to 12 significant digits
    durations: dict[str, list[float]] = {}
    for d in TIES:
        durations.setdefault(d["device"]["model"], []).append(d["property"]["durationSec"])
    for value, model in rows:
        xs = sorted(durations[model])
        pos = 0.95 * (len(xs) - 1)
        lo = math.floor(pos)
        p95 = xs[lo] + (xs[min(lo + 1, len(xs) - 1)] - xs[lo]) * (pos - lo)
        assert -value == pytest.approx(p95, rel=1e-12), model
