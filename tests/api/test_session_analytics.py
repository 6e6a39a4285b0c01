"""`GET /v2/session/analytics` against a real server on a real DuckDB file, checked against an independent
plain-Python model (`analytics_oracle`) over the very documents that were ingested, plus every analytics
request of the reference captures replayed for its shape.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sessionscope.dashboard_link import parse_dashboard_link

from .analytics_oracle import DEFAULT_AGGREGATION, AnalyticsOracle, matches, metric_key
from .list_oracle import format_time, parse_time

CAPTURES = json.loads((Path(__file__).parents[1] / "fixtures" / "uxcam-v2-captures.json").read_text())
SESSION_ANALYTICS = [c for c in CAPTURES if urlsplit(c["request_url"]).path.endswith("/session/analytics")]
END_OF_DAY = timedelta(hours=23, minutes=59, seconds=59)
DEFAULT_KEYS = [
    "session_count",
    "session_unique_user_count",
    "session_new_users_count",
    "avg_session_gesture_count",
    "avg_session_rage_gesture_count",
    "avg_session_responsive_gesture_count",
    "avg_session_unresponsive_gesture_count",
    "avg_session_duration",
    "avg_session_unique_screen_count",
]


@dataclass
class Ctx:
    loaded: Any
    oracle: AnalyticsOracle
    gen: datetime
    manufacturers: list[str]
    countries: list[str]
    models: list[str]
    screens: list[str]

    @property
    def client(self):
        return self.loaded.client

    @property
    def headers(self) -> dict[str, str]:
        return self.loaded.a.read_headers


def _common(docs: list[dict], *path: str, n: int = 12) -> list[str]:
    counts: dict[str, int] = {}
    for d in docs:
        v: Any = d
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        if isinstance(v, str):
            counts[v] = counts.get(v, 0) + 1
    return sorted(counts, key=lambda k: (-counts[k], k))[:n]


@pytest.fixture(scope="module")
def ctx(loaded) -> Ctx:
    docs = loaded.docs_a
    screens: dict[str, int] = {}
    for d in docs:
        for s in d.get("screens") or []:
            screens[s] = screens.get(s, 0) + 1
    return Ctx(
        loaded,
        AnalyticsOracle(docs),
        loaded.generated_at,
        _common(docs, "device", "producer"),
        _common(docs, "device", "country"),
        _common(docs, "device", "model", n=20),
        sorted(screens, key=lambda k: (-screens[k], k))[:15],
    )


# -- talking to the server ----------------------------------------------------------------------------------


def encode(params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (json.dumps(v) if isinstance(v, list | dict) else v) for k, v in params.items() if v is not None
    }


def request(ctx: Ctx, params: dict[str, Any], *, headers: dict | None = None, status: int = 200) -> dict:
    r = ctx.client.get("/v2/session/analytics", params=encode(params), headers=headers or ctx.headers)
    assert r.status_code == status, (params, r.text)
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def all_rows(ctx: Ctx, params: dict[str, Any], page_size: int = 500) -> list[dict]:
    """Every page; checks the pagination object of each."""
    rows: list[dict] = []
    page = 1
    while True:
        body = request(ctx, {**params, "page": page, "page_size": page_size})
        assert body["success"] is True
        assert body["pagination"]["current"] == page
        assert body["pagination"]["total"] == len(body["data"])
        rows += body["data"]
        if body["pagination"]["next"] is None:
            return rows
        assert body["pagination"]["next"] == page + 1 and len(body["data"]) == page_size
        page += 1


def window_filter(lower: str, upper: str) -> dict:
    return {"attribute": "date_range", "operator": "between_dates", "value": {"lower": lower, "upper": upper}}


def bounds(lower: str, upper: str) -> tuple[datetime, datetime]:
    hi = parse_time(upper)
    return parse_time(lower), hi + END_OF_DAY if len(upper) == 10 else hi


def settle_near_ties(actual: list[dict], expected: list[dict], group_by: list[dict], order_key: str) -> list[dict]:
    """The rows in the oracle's order where two of them differ in the metric that orders them only in its
    last bits: a float summed or interpolated in another order (an engine's 27.199999999999996 against the
    oracle's 27.200000000000003) may put either first. Only such near ties move; exact ties must come in
    the order of their group values, and every value is still compared after."""
    names = [g["attribute"] + (f"_{g['property_name']}" if g.get("property_name") else "") for g in group_by]
    key = lambda row: tuple(row.get(n) for n in names)  # noqa: E731
    out = list(actual)
    for i, want in enumerate(expected[: len(out)]):
        if key(out[i]) == key(want):
            continue
        j = next((j for j in range(i + 1, len(out)) if key(out[j]) == key(want)), None)
        if j is None:
            break
        a, b = out[i].get(order_key), out[j].get(order_key)
        if isinstance(a, float) and isinstance(b, float) and a != b and math.isclose(a, b, rel_tol=1e-9):
            out.insert(i, out.pop(j))
    return out


def assert_rows(actual: list[dict], expected: list[dict], context: Any = None) -> None:
    assert len(actual) == len(expected), (context, [r for r in actual][:3], expected[:3])
    for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
        keys = [k for k in got if k != "dashboard_link"]
        assert keys == list(want), (context, i, keys, list(want))
        link_at = list(got).index("dashboard_link")
        assert list(got)[link_at - 1] in want and not list(got)[link_at - 1].endswith("_pct_change")
        for k in want:
            assert matches(k, got[k], want[k]), (context, i, k, got[k], want[k], got)
        for k in ("session_count", "session_unique_user_count", "session_new_users_count"):
            assert k not in got or isinstance(got[k], int)


# -- the reference captures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("capture", SESSION_ANALYTICS, ids=[c["name"] for c in SESSION_ANALYTICS])
def test_every_reference_request_answers_with_the_reference_keys(ctx: Ctx, capture: dict) -> None:
    params = {
        k: v for k, v in parse_qsl(urlsplit(capture["request_url"]).query) if k not in ("appid", "apikey")
    }
    body = request(ctx, params)
    ref = capture["body"]
    # pagination always, like the list, except for a comparison of totals (dev: the reference leaves it out
    # when the request has no page parameters)
    comparison_of_totals = "comparison" in params and "group_by" not in params
    assert list(body) == (["success", "data"] if comparison_of_totals else ["success", "data", "pagination"])
    assert set(ref) <= set(body)
    assert body["data"], "the demo data has rows for every captured request"
    want = list(ref["data"][0])
    for row in body["data"]:
        assert list(row) == want
        assert row["dashboard_link"].startswith(
            f"{ctx.loaded.server.base_url}/app/{ctx.loaded.a.appid}/sessions/list/1?"
        )
    if "pagination" in body:
        assert set(body["pagination"]) == {"current", "next", "total"}
    # the same request as a POST with a JSON body answers the same (links carry "now": compare the numbers)
    post = {
        k: (json.loads(v) if k in ("filters", "group_by", "aggregation") else v) for k, v in params.items()
    }
    r = ctx.client.post("/v2/session/analytics", json=post, headers=ctx.headers)
    assert r.status_code == 200, r.text
    strip = lambda rows: [{k: v for k, v in row.items() if k != "dashboard_link"} for row in rows]  # noqa: E731
    assert_rows(r.json()["data"], strip(body["data"]))


# -- answers, against the oracle -----------------------------------------------------------------------------


def test_totals_over_everything(ctx: Ctx) -> None:
    lower, upper = "2000-01-01", format_time(ctx.gen + timedelta(days=1))
    rows = all_rows(ctx, {"filters": [window_filter(lower, upper)]})
    assert list(rows[0])[: len(DEFAULT_KEYS)] == DEFAULT_KEYS
    assert_rows(rows, ctx.oracle.answer(*bounds(lower, upper)))
    assert rows[0]["session_count"] == len(ctx.loaded.docs_a)
    assert rows[0]["session_unique_user_count"] == len({d["user"]["uxcamuserid"] for d in ctx.loaded.docs_a})
    # over all time every user's first session is in: new users = unique users
    assert rows[0]["session_new_users_count"] == rows[0]["session_unique_user_count"]


def test_an_empty_window_is_one_row_of_zero_counts_and_null_averages(ctx: Ctx) -> None:
    rows = all_rows(ctx, {"filters": [window_filter("2001-01-01", "2001-01-31")]})
    assert len(rows) == 1
    assert [rows[0][k] for k in DEFAULT_KEYS] == [0, 0, 0] + [None] * 6
    grouped = all_rows(
        ctx,
        {"filters": [window_filter("2001-01-01", "2001-01-31")], "group_by": [{"attribute": "device_model"}]},
    )
    assert grouped == []


def test_percentiles_and_user_totals(ctx: Ctx) -> None:
    lower, upper = format_time(ctx.gen - timedelta(days=20)), format_time(ctx.gen)
    aggregation = [
        {"attribute": "session_duration", "operator": op}
        for op in ("p50", "p90", "p95", "p99", "min", "max", "sum", "avg")
    ]
    aggregation += [
        {"attribute": "user_rage_gesture_count", "operator": "sum"},
        {"attribute": "user_session_duration", "operator": "p90"},
    ]
    aggregation += [
        {"attribute": "user_custom_property", "property_name": "lifetime_value", "operator": "p50"}
    ]
    params = {
        "filters": [window_filter(lower, upper)],
        "group_by": [{"attribute": "device_model", "max_group_number": 10}],
        "aggregation": aggregation,
    }
    rows = all_rows(ctx, params)
    assert_rows(
        rows, ctx.oracle.answer(*bounds(lower, upper), group_by=params["group_by"], aggregation=aggregation)
    )
    assert "others" in [r["device_model"] for r in rows]
    # ordered by the first metric requested, descending
    p50 = [r["p50_session_duration"] for r in rows]
    assert p50 == sorted(p50, reverse=True)


def test_day_week_month_buckets_fill_the_window(ctx: Ctx) -> None:
    # the window starts 40 days before the first upload: those days have no sessions
    lower, upper = (ctx.gen - timedelta(days=40)).date().isoformat(), ctx.gen.date().isoformat()
    lo, hi = bounds(lower, upper)
    for attr, n in (
        ("session_uploadedon_day", 41),
        ("session_uploaded_week", None),
        ("session_uploaded_month", None),
    ):
        rows = all_rows(
            ctx, {"filters": [window_filter(lower, upper)], "group_by": [{"attribute": attr}]}, page_size=17
        )
        assert_rows(rows, ctx.oracle.answer(lo, hi, group_by=[{"attribute": attr}]), attr)
        if n:
            assert len(rows) == n
            assert rows[0]["session_count"] == 0 and rows[0]["avg_session_duration"] is None
        assert sum(r["session_count"] for r in rows) == sum(
            1 for s in ctx.oracle.sessions if lo <= s.uploaded <= hi
        )
    days = all_rows(
        ctx, {"filters": [window_filter(lower, upper)], "group_by": [{"attribute": "session_uploadedon_day"}]}
    )
    assert [r["session_uploadedon_day"] for r in days] == [
        (lo.date() + timedelta(days=i)).isoformat() for i in range(41)
    ]
    weeks = all_rows(
        ctx, {"filters": [window_filter(lower, upper)], "group_by": [{"attribute": "session_uploaded_week"}]}
    )
    first = lo.date() - timedelta(days=lo.weekday())
    assert weeks[0]["session_uploaded_week"] == f"{first:%b %d} - {first + timedelta(days=6):%b %d}"


def test_two_levels_with_a_bucket_give_every_series_every_bucket(ctx: Ctx) -> None:
    lower, upper = (ctx.gen - timedelta(days=9)).date().isoformat(), ctx.gen.date().isoformat()
    group_by = [{"attribute": "device_platform"}, {"attribute": "session_uploadedon_day"}]
    rows = all_rows(ctx, {"filters": [window_filter(lower, upper)], "group_by": group_by}, page_size=7)
    assert_rows(rows, ctx.oracle.answer(*bounds(lower, upper), group_by=group_by))
    assert len(rows) == 3 * 10  # android, ios, web (no platform: null) x 10 days
    assert {r["device_platform"] for r in rows} == {"android", "ios", None}


def test_comparison_of_totals_has_no_pagination(ctx: Ctx) -> None:
    lower, upper = format_time(ctx.gen - timedelta(days=10)), format_time(ctx.gen)
    body = request(ctx, {"filters": [window_filter(lower, upper)], "comparison": 1})
    assert list(body) == ["success", "data"]
    (row,) = body["data"]
    keys = list(row)
    assert keys == DEFAULT_KEYS + ["dashboard_link"] + [f"{k}_pct_change" for k in DEFAULT_KEYS]
    assert_rows(body["data"], ctx.oracle.answer(*bounds(lower, upper), comparison=True))
    assert isinstance(row["session_count_pct_change"], float)


def test_pagination_slices_the_ordered_rows(ctx: Ctx) -> None:
    lower, upper = format_time(ctx.gen - timedelta(days=28)), format_time(ctx.gen)
    params = {
        "filters": [window_filter(lower, upper)],
        "group_by": [{"attribute": "device_model", "max_group_number": 1000}],
    }
    everything = all_rows(ctx, params)
    assert len(everything) > 20
    pages = all_rows(ctx, params, page_size=6)
    assert [r["device_model"] for r in pages] == [r["device_model"] for r in everything]
    assert_rows(pages, [{k: v for k, v in r.items() if k != "dashboard_link"} for r in everything])
    past = request(ctx, {**params, "page": 1000, "page_size": 6})
    assert past["data"] == [] and past["pagination"] == {"current": 1000, "next": None, "total": 0}
    exact = len(everything)
    last = request(ctx, {**params, "page": 1, "page_size": exact})
    assert last["pagination"]["next"] is None and last["pagination"]["total"] == exact


def test_another_apps_data_never_counts(loaded, ctx: Ctx) -> None:
    oracle_b = AnalyticsOracle(loaded.docs_b)
    lower, upper = "2000-01-01", format_time(ctx.gen + timedelta(days=1))
    params = {"filters": [window_filter(lower, upper)], "group_by": [{"attribute": "device_platform"}]}
    r = loaded.client.get("/v2/session/analytics", params=encode(params), headers=loaded.b.read_headers)
    assert r.status_code == 200
    assert_rows(r.json()["data"], oracle_b.answer(*bounds(lower, upper), group_by=params["group_by"]))
    wrong = {"appid": loaded.b.appid, "apikey": loaded.a.apikey}
    assert loaded.client.get("/v2/session/analytics", headers=wrong).status_code == 401


@pytest.mark.parametrize(
    ("params", "param", "path"),
    [
        (
            {
                "group_by": [
                    {"attribute": "device_model"},
                    {"attribute": "app_version"},
                    {"attribute": "device_class"},
                ]
            },
            "group_by",
            "[2]",
        ),
        ({"group_by": [{"attribute": "session_duration"}]}, "group_by", "[0].attribute"),
        (
            {"group_by": [{"attribute": "device_model", "max_group_number": 5000}]},
            "group_by",
            "[0].max_group_number",
        ),
        ({"aggregation": [{"attribute": "device_model", "operator": "max"}]}, "aggregation", "[0].attribute"),
        (
            {"aggregation": [{"attribute": "session_duration", "operator": "p42"}]},
            "aggregation",
            "[0].operator",
        ),
        ({"aggregation": "not json"}, "aggregation", None),
        ({"page_size": 501}, "page_size", None),
    ],
)
def test_bad_requests_are_400_naming_param_and_path(
    ctx: Ctx, params: dict, param: str, path: str | None
) -> None:
    body = request(ctx, params, status=400)
    assert body["success"] is False
    err = body["error"]
    assert err["status"] == 400 and err["code"] == "invalid_request"
    assert err["param"] == param and err.get("path") == path
    if path == "[0].attribute" and param == "group_by":
        assert "device_model" in err["message"] and "session_uploaded_week" in err["message"]


# -- dashboard links: parse(build(row)) selects exactly the row's sessions ------------------------------------


LINK_CASES = [
    [{"attribute": "device_manufacturer", "max_group_number": 3}],
    [{"attribute": "user_custom_property", "property_name": "age_group", "max_group_number": 2}],
    [{"attribute": "device_platform"}],
    [{"attribute": "device_platform", "max_group_number": 1}],
    [{"attribute": "session_crashed"}],
    [{"attribute": "browser_name", "max_group_number": 2}],
    [{"attribute": "session_uploaded_week"}, {"attribute": "device_platform", "max_group_number": 2}],
    [
        {"attribute": "app_version", "max_group_number": 2},
        {"attribute": "user_custom_property", "property_name": "plan"},
    ],
]


@pytest.mark.parametrize(
    "group_by", LINK_CASES, ids=[",".join(g["attribute"] for g in c) for c in LINK_CASES]
)
def test_dashboard_links_round_trip_to_the_same_sessions(ctx: Ctx, group_by: list[dict]) -> None:
    lower, upper = format_time(ctx.gen - timedelta(days=25)), (ctx.gen - timedelta(days=2)).date().isoformat()
    filters = [
        window_filter(lower, upper),
        {"attribute": "device_country", "operator": "not_in", "value": [ctx.countries[0], "Nowhere & Co"]},
        {
            "attribute": "event_name",
            "operator": "in",
            "value": ["View Product"],
            "property": {"name": "price", "operator": "greater", "value": "20"},
        },
    ]
    rows = all_rows(ctx, {"filters": filters, "group_by": group_by})
    assert len(rows) >= 2
    for row in rows:
        parsed = parse_dashboard_link(row["dashboard_link"])
        body = request(
            ctx, {"filters": parsed, "aggregation": [{"attribute": "session_count", "operator": ""}]}
        )
        assert body["data"][0]["session_count"] == row["session_count"], (row, parsed)
    # and the list endpoint lists exactly that many sessions for the smallest group
    row = min(rows, key=lambda r: r["session_count"])
    listed, page = 0, 1
    while True:
        params = encode(
            {"filters": parse_dashboard_link(row["dashboard_link"]), "page": page, "page_size": 500}
        )
        body = ctx.client.get("/v2/session", params=params, headers=ctx.headers).json()
        listed += len(body["data"])
        if body["pagination"]["next"] is None:
            break
        page += 1
    assert listed == row["session_count"]


# -- property-based: random filters x group_by x aggregation, every answer equal to the oracle -------------

NUMERIC = [
    "session_duration",
    "session_gesture_count",
    "session_rage_gesture_count",
    "session_unique_screen_count",
    "session_screen_count",
    "session_crashed",
    "session_number_of_user",
]
OPS = ["sum", "avg", "min", "max", "p50", "p90", "p95", "p99"]
USER = [
    "user_rage_gesture_count",
    "user_session_duration",
    "user_session_count",
    "user_event_count",
    "user_gesture_count",
]
GROUPS = [
    {"attribute": "device_platform"},
    {"attribute": "device_manufacturer"},
    {"attribute": "app_version"},
    {"attribute": "device_country"},
    {"attribute": "session_crashed"},
    {"attribute": "browser_name"},
    {"attribute": "user_custom_property", "property_name": "age_group"},
    {"attribute": "user_custom_property", "property_name": "plan"},
    {"attribute": "user_custom_property", "property_name": "is_beta"},
    {"attribute": "session_uploadedon_day"},
    {"attribute": "session_uploaded_week"},
    {"attribute": "session_uploaded_month"},
]


def f(attribute: str, operator: str, value: Any, **kw: Any) -> dict:
    return {"attribute": attribute, "operator": operator, "value": value, **kw}


def filter_strategy(ctx: Ctx) -> st.SearchStrategy[dict]:
    some = lambda xs: st.lists(st.sampled_from(xs), min_size=1, max_size=3, unique=True)  # noqa: E731
    number = st.integers(0, 300) | st.floats(0, 300, allow_nan=False).map(lambda x: round(x, 3))
    return st.one_of(
        st.sampled_from(["1", "2", "android", "ios", 1, 2]).flatmap(
            lambda v: st.sampled_from(
                [f("device_platform", "equal", v), f("device_platform", "not_equal", v)]
            )
        ),
        st.tuples(st.sampled_from(["in", "not_in"]), some(ctx.manufacturers)).map(
            lambda t: f("device_manufacturer", *t)
        ),
        st.tuples(st.sampled_from(["equal", "not_equal"]), st.sampled_from(ctx.countries)).map(
            lambda t: f("device_country", *t)
        ),
        st.tuples(
            st.sampled_from(["equal", "not_equal", "in", "not_in"]), st.sampled_from(["1.5", "2.0", "2.1"])
        ).map(lambda t: f("app_version", t[0], [t[1]] if "in" in t[0] else t[1])),
        st.tuples(st.sampled_from(["greater", "less", "greater_or_equal", "less_or_equal"]), number).map(
            lambda t: f("session_duration", *t)
        ),
        st.integers(0, 3).map(lambda n: f("session_rage_gesture_count", "greater_or_equal", n)),
        st.sampled_from([True, False, "true", "False", 1, 0]).map(lambda v: f("session_crashed", "equal", v)),
        st.tuples(st.sampled_from(["in", "not_in"]), some(["20-29", "30-39", "40-49", "60-69"])).map(
            lambda t: f("user_custom_property", *t, property_name="age_group")
        ),
        st.integers(0, 60).map(lambda n: f("user_custom_property", "greater", n, property_name="orders")),
        st.sampled_from(["Add to cart", "UI Freeze", "Purchase"]).flatmap(
            lambda name: st.sampled_from(
                [
                    f("event_name", "in", [name]),
                    f("event_name", "not_in", [name]),
                    f(
                        "event_name",
                        "in",
                        [name],
                        property={"name": "price", "operator": "greater", "value": "50"},
                    ),
                ]
            )
        ),
        st.tuples(st.sampled_from(["has_any", "not_has_any"]), some(ctx.screens)).map(
            lambda t: f("session_screen_list", *t)
        ),
        st.sampled_from(["SM", "iPhone", "Pixel"]).map(lambda v: f("device_model", "contains", v)),
        st.sampled_from([1, 2, 3]).map(lambda n: f("session_number_of_user", "greater", n)),
    )


def group_strategy() -> st.SearchStrategy[list[dict]]:
    level = st.tuples(st.sampled_from(GROUPS), st.none() | st.integers(1, 6)).map(
        lambda t: {**t[0], **({} if t[1] is None else {"max_group_number": t[1]})}
    )
    unique = lambda g: (g["attribute"], g.get("property_name"))  # noqa: E731
    return st.sampled_from([2, 1, 2, 1, 0]).flatmap(
        lambda n: st.lists(level, min_size=n, max_size=n, unique_by=unique)
    )


def aggregation_strategy() -> st.SearchStrategy[list[dict] | None]:
    entry = st.one_of(
        st.sampled_from(["session_count", "session_unique_user_count", "session_new_users_count"]).map(
            lambda a: {"attribute": a, "operator": ""}
        ),
        st.tuples(st.sampled_from(NUMERIC), st.sampled_from(OPS)).map(
            lambda t: {"attribute": t[0], "operator": t[1]}
        ),
        st.tuples(st.sampled_from(["orders", "lifetime_value"]), st.sampled_from(OPS)).map(
            lambda t: {"attribute": "user_custom_property", "property_name": t[0], "operator": t[1]}
        ),
        st.tuples(st.sampled_from(USER), st.sampled_from(OPS)).map(
            lambda t: {"attribute": t[0], "operator": t[1]}
        ),
    )
    return st.none() | st.lists(entry, min_size=1, max_size=4)


def window_strategy(gen: datetime) -> st.SearchStrategy[tuple[str, str]]:
    start = st.integers(5 * 86400, 32 * 86400).map(lambda s: gen - timedelta(seconds=s))
    length = st.integers(10 * 86400, 30 * 86400) | st.integers(3600, 30 * 86400)

    def fmt(t: tuple[datetime, int, bool]) -> tuple[str, str]:
        lo, n, date_only = t
        hi = lo + timedelta(seconds=n)
        return (
            (lo.date().isoformat(), hi.date().isoformat())
            if date_only
            else (format_time(lo), format_time(hi))
        )

    return st.tuples(start, length, st.booleans()).map(fmt)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data())
def test_random_requests_match_the_oracle(ctx: Ctx, data: st.DataObject) -> None:
    lower, upper = data.draw(window_strategy(ctx.gen), label="window")
    filters = data.draw(st.lists(filter_strategy(ctx), max_size=2), label="filters")
    group_by = data.draw(group_strategy(), label="group_by")
    aggregation = data.draw(aggregation_strategy(), label="aggregation")
    comparison = data.draw(st.booleans(), label="comparison")
    params = {
        "filters": [window_filter(lower, upper), *filters],
        "group_by": group_by or None,
        "aggregation": aggregation,
        "comparison": "1" if comparison else None,
    }
    expected = ctx.oracle.answer(*bounds(lower, upper), filters, group_by, aggregation, comparison)
    matching = sum(r["session_count"] for r in expected)
    event(f"levels: {len(group_by)}")
    event("matching sessions: " + ("0" if not matching else "1-99" if matching < 100 else "100+"))
    event(
        "rows: "
        + ("0" if not expected else "1" if len(expected) == 1 else "2-20" if len(expected) <= 20 else "21+")
    )
    if comparison and not group_by:
        body = request(ctx, params)
        assert "pagination" not in body
        actual = body["data"]
    else:
        actual = all_rows(ctx, params, page_size=data.draw(st.sampled_from([500, 7]), label="page_size"))
    actual = settle_near_ties(actual, expected, group_by, metric_key((aggregation or DEFAULT_AGGREGATION)[0]))
    assert_rows(actual, expected, params)
