"""`/v2/user[/analytics]` and `/v2/event[/analytics]` against a real server, on every engine, checked against
an independent plain-Python model (`users_events_oracle`) over the very documents that were ingested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from .analytics_oracle import matches
from .compare import same
from .list_oracle import format_time
from .users_events_oracle import EventsOracle, UsersOracle

END_OF_DAY = timedelta(hours=23, minutes=59, seconds=59)


@dataclass
class Ctx:
    loaded: Any
    users: UsersOracle
    events: EventsOracle
    gen: datetime

    @property
    def client(self):
        return self.loaded.client

    @property
    def headers(self) -> dict[str, str]:
        return self.loaded.a.read_headers

    def day(self, days_back: int) -> str:
        return (self.gen - timedelta(days=days_back)).date().isoformat()


@pytest.fixture(scope="module")
def ctx(loaded) -> Ctx:
    return Ctx(loaded, UsersOracle(loaded.docs_a), EventsOracle(loaded.docs_a), loaded.generated_at)


def now() -> datetime:
    return datetime.utcnow().replace(microsecond=0)


def encode(params: dict[str, Any]) -> dict[str, Any]:
    return {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in params.items() if v is not None}


def get(ctx: Ctx, path: str, params: dict[str, Any], headers: dict | None = None, status: int = 200) -> dict:
    r = ctx.client.get(path, params=encode(params), headers=headers or ctx.headers)
    assert r.status_code == status, (path, params, r.text)
    return r.json()


def all_pages(ctx: Ctx, path: str, params: dict[str, Any], page_size: int = 500) -> list[dict]:
    rows: list[dict] = []
    page = 1
    while True:
        body = get(ctx, path, {**params, "page": page, "page_size": page_size})
        assert body["pagination"] == {
            "current": page,
            "next": body["pagination"]["next"],
            "total": len(body["data"]),
        }
        rows += body["data"]
        if body["pagination"]["next"] is None:
            return rows
        assert len(body["data"]) == page_size
        page += 1


def assert_rows(got: list[dict], want: list[dict], context: Any = None) -> None:
    assert len(got) == len(want), (context, got[:2], want[:2])
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert [k for k in g if k != "dashboard_link"] == list(w), (context, i)
        for k, v in w.items():
            assert matches(k, g[k], v), (context, i, k, g[k], v)


def window(lower: str, upper: str) -> dict:
    return {"attribute": "date_range", "operator": "between_dates", "value": {"lower": lower, "upper": upper}}


def bounds(lower: str, upper: str) -> tuple[datetime, datetime]:
    lo = datetime.fromisoformat(lower.replace("Z", ""))
    hi = datetime.fromisoformat(upper.replace("Z", ""))
    return lo, hi + END_OF_DAY if len(upper) == 10 else hi


# -- lists ----------------------------------------------------------------------------------------------------

USER_FILTERS = [
    [],
    [{"attribute": "device_platform", "operator": "equal", "value": "2"}],
    [{"attribute": "user_session_count", "operator": "greater", "value": 12}],
    [{"attribute": "user_session_duration", "operator": "less_or_equal", "value": "300"}],
    [{"attribute": "user_event_count", "operator": "greater_or_equal", "value": 40}],
    [{"attribute": "user_rage_gesture_count", "operator": "greater", "value": 3}],
    [{"attribute": "event_name", "operator": "in", "value": ["Add to cart"]}],
    # negative event conditions are the user's (SPEC §4, "had none"): no session of the user in the window
    [{"attribute": "event_name", "operator": "not_in", "value": ["Purchase"]}],
    [{"attribute": "event_name", "operator": "not_equal", "value": "Add to cart",
      "property": {"name": "price", "operator": "greater", "value": "10"}}],
    [{"attribute": "event_custom_property", "operator": "not_equal", "property_name": "category", "value": "apparel"}],
    [
        {"attribute": "event_name", "operator": "not_in", "value": ["Purchase"]},
        {"attribute": "device_platform", "operator": "equal", "value": "ios"},
    ],
    [{"attribute": "session_screen_list", "operator": "has_any", "value": ["CartActivity", "CartViewController"]}],
    [{"attribute": "user_custom_property", "operator": "in", "property_name": "age_group", "value": ["20-29"]}],
    [{"attribute": "user_custom_property", "operator": "greater", "property_name": "orders", "value": 10}],
    [{"attribute": "user_custom_property", "operator": "equal", "property_name": "alias", "value": "Sophia Stewart"}],
    # a user matches when ONE session matches every filter: Samsung and iOS together match no session
    [
        {"attribute": "device_manufacturer", "operator": "equal", "value": "Samsung"},
        {"attribute": "device_platform", "operator": "equal", "value": "ios"},
    ],
    [
        {"attribute": "device_country", "operator": "in", "value": ["USA", "India"]},
        {"attribute": "user_session_count", "operator": "greater", "value": 5},
    ],
]


@pytest.mark.parametrize("filters", USER_FILTERS, ids=[json.dumps(f)[:60] for f in USER_FILTERS])
def test_user_list_is_the_oracles(ctx: Ctx, filters: list[dict]) -> None:
    rows = all_pages(ctx, "/v2/user", {"filters": filters}, page_size=97)
    want = ctx.users.listing(filters, now())
    assert [r["uxcamUserId"] for r in rows] == [w["uxcamUserId"] for w in want]
    for got, exp in zip(rows, want, strict=True):
        assert got["url"].endswith(f"/app/{ctx.loaded.a.appid}/users/list/1/{got['uxcamUserId']}")
        for k in ("userId", "property", "location", "device"):
            assert got[k] == exp[k], (k, got[k], exp[k])
        for k, v in exp["usage"].items():
            assert matches(k, got["usage"][k], v), (k, got["usage"][k], v)
    if filters and filters[0]["attribute"] == "device_manufacturer":
        assert rows == []


def test_user_first_seen_on(ctx: Ctx) -> None:
    firsts = sorted(ctx.users.first_seen.values())
    middle = firsts[len(firsts) // 2]
    day = middle.date().isoformat()
    for op, value in [
        ("on", day),
        ("not_on", day),
        ("after", format_time(middle)),
        ("before", format_time(middle)),
        ("between_dates", {"lower": ctx.day(28), "upper": day}),
    ]:
        filters = [{"attribute": "user_first_seen_on", "operator": op, "value": value}]
        rows = all_pages(ctx, "/v2/user", {"filters": filters})
        want = ctx.users.listing(filters, now())
        assert [r["uxcamUserId"] for r in rows] == [w["uxcamUserId"] for w in want], op
        assert 0 < len(rows) < len(ctx.users.listing([], now())), op
        registered = [r["usage"]["registeredOn"] for r in rows]
        if op == "after":
            assert min(registered) > format_time(middle)


EVENT_FILTERS = [
    [{"attribute": "event_name", "operator": "equal", "value": "Add to cart"}],
    [{"attribute": "event_name", "operator": "in", "value": ["Purchase", "Login"]}],
    [
        {
            "attribute": "event_name",
            "operator": "in",
            "value": ["Add to cart"],
            "property": {"name": "price", "operator": "greater", "value": "50"},
        }
    ],
    [{"attribute": "event_screen_name", "operator": "in", "value": ["CartActivity", "CheckoutActivity"]}],
    [{"attribute": "event_custom_property", "operator": "in", "property_name": "payment_method", "value": ["Paypal", "Cash"]}],
    [{"attribute": "event_custom_property", "operator": "greater", "property_name": "price", "value": 100}],
    [
        {"attribute": "session_crashed", "operator": "equal", "value": True},
        {"attribute": "device_platform", "operator": "equal", "value": 1},
    ],
    [
        {"attribute": "session_duration", "operator": "greater", "value": "300"},
        {"attribute": "event_name", "operator": "not_equal", "value": "App Open"},
        {"attribute": "user_custom_property", "operator": "equal", "property_name": "plan", "value": "free"},
    ],
]


@pytest.mark.parametrize("filters", EVENT_FILTERS, ids=[json.dumps(f)[:60] for f in EVENT_FILTERS])
def test_event_list_is_the_oracles(ctx: Ctx, filters: list[dict]) -> None:
    rows = all_pages(ctx, "/v2/event", {"filters": filters})
    want = ctx.events.listing(filters, now())
    assert rows, "the demo data has events for every filter"
    assert len(rows) == len(want)
    for got, e in zip(rows, want, strict=True):
        assert {k: v for k, v in got.items() if k not in ("eventId", "url")} == EventsOracle.event_row(e)


def test_event_list_pages_and_ids(ctx: Ctx) -> None:
    want = ctx.events.listing([], now())
    assert len(want) > 5_000
    seen: set[str] = set()
    for page in (1, 2, 40):
        body = get(ctx, "/v2/event", {"page": page, "page_size": 100})
        exp = want[(page - 1) * 100 : page * 100]
        assert [EventsOracle.event_row(e) for e in exp] == [
            {k: v for k, v in r.items() if k not in ("eventId", "url")} for r in body["data"]
        ]
        seen |= {r["eventId"] for r in body["data"]}
        assert body["pagination"]["next"] == page + 1
    assert len(seen) == 300, "event ids are unique"
    again = get(ctx, "/v2/event", {"page": 2, "page_size": 100})
    assert {r["eventId"] for r in again["data"]} <= seen, "event ids are stable"
    # the POST forms answer the same pages
    for path in ("/v2/event", "/v2/user"):
        r = ctx.client.post(path, json={"page": 2, "page_size": 50}, headers=ctx.headers)
        assert r.status_code == 200 and same(r.json(), get(ctx, path, {"page": 2, "page_size": 50}))


# -- analytics ------------------------------------------------------------------------------------------------


def _analytics_cases() -> list[tuple[str, dict]]:
    return [
        ("user", {}),
        ("user", {"group_by": [{"attribute": "device_manufacturer", "max_group_number": 3}]}),
        ("user", {"group_by": [{"attribute": "device_platform"}, {"attribute": "app_version", "max_group_number": 2}]}),
        ("user", {"group_by": [{"attribute": "session_uploaded_week"}]}),
        ("user", {"group_by": [{"attribute": "user_custom_property", "property_name": "age_group"}]}),
        (
            "user",
            {
                "aggregation": [
                    {"attribute": "user_rage_gesture_count", "operator": "max"},
                    {"attribute": "user_session_duration", "operator": "p90"},
                    {"attribute": "user_count", "operator": ""},
                ],
                "group_by": [{"attribute": "device_model", "max_group_number": 5}],
            },
        ),
        ("user", {"filters": [{"attribute": "user_session_count", "operator": "greater", "value": 8}], "comparison": "1"}),
        (
            "user",  # users that had no purchase in the window (in the previous one, for its figures)
            {
                "filters": [{"attribute": "event_name", "operator": "not_in", "value": ["Purchase"]}],
                "group_by": [{"attribute": "device_country", "max_group_number": 4}],
                "comparison": "1",
            },
        ),
        (
            "user",
            {
                "filters": [{"attribute": "event_name", "operator": "in", "value": ["Add to cart"]}],
                "group_by": [{"attribute": "device_country", "max_group_number": 4}],
                "comparison": "1",
            },
        ),
        (
            "user",  # a user's custom property counts once per user (its latest matching session's value)
            {
                "aggregation": [
                    {"attribute": "user_custom_property", "property_name": "lifetime_value", "operator": "sum"},
                    {"attribute": "user_custom_property", "property_name": "lifetime_value", "operator": "avg"},
                    {"attribute": "user_custom_property", "property_name": "lifetime_value", "operator": "p90"},
                ],
                "group_by": [{"attribute": "device_platform"}],
            },
        ),
        ("event", {}),
        ("event", {"group_by": [{"attribute": "event_name"}]}),
        (
            "event",  # a session's figures count once per group, however many of its events are in it
            {
                "aggregation": [
                    {"attribute": "session_duration", "operator": "sum"},
                    {"attribute": "session_duration", "operator": "avg"},
                    {"attribute": "session_gesture_count", "operator": "max"},
                    {"attribute": "session_crashed", "operator": "avg"},
                    {"attribute": "user_custom_property", "property_name": "lifetime_value", "operator": "sum"},
                    {"attribute": "event_custom_property", "property_name": "price", "operator": "sum"},
                ],
                "group_by": [{"attribute": "event_name", "max_group_number": 3}],
                "comparison": "1",
            },
        ),
        ("event", {"group_by": [{"attribute": "event_screen_name", "max_group_number": 6}]}),
        ("event", {"group_by": [{"attribute": "event_uploadedon_day"}]}),
        ("event", {"group_by": [{"attribute": "event_uploaded_month"}, {"attribute": "device_platform"}]}),
        (
            "event",
            {
                "aggregation": [
                    {"attribute": "event_count", "operator": ""},
                    {"attribute": "event_custom_property", "property_name": "price", "operator": "avg"},
                    {"attribute": "event_custom_property", "property_name": "price", "operator": "p50"},
                ],
                "group_by": [{"attribute": "event_custom_property", "property_name": "category", "max_group_number": 4}],
            },
        ),
        (
            "event",
            {
                "filters": [{"attribute": "event_custom_property", "operator": "in", "property_name": "payment_method", "value": ["Paypal", "Cash"]}],
                "group_by": [{"attribute": "user_custom_property", "property_name": "age_group"}],
            },
        ),
        ("event", {"filters": [{"attribute": "session_crashed", "operator": "equal", "value": "true"}], "comparison": "1"}),
        (
            "event",
            {
                "aggregation": [{"attribute": "session_new_users_count", "operator": ""}],
                "group_by": [{"attribute": "device_manufacturer", "max_group_number": 2}],
                "comparison": "1",
            },
        ),
    ]


ANALYTICS = _analytics_cases()


@pytest.mark.parametrize("resource,params", ANALYTICS, ids=[f"{r}-{json.dumps(p)[:70]}" for r, p in ANALYTICS])
def test_analytics_is_the_oracles(ctx: Ctx, resource: str, params: dict) -> None:
    lower, upper = ctx.day(25), format_time(ctx.gen)
    filters = [window(lower, upper), *params.get("filters", [])]
    body_params = {**params, "filters": filters}
    oracle = ctx.users if resource == "user" else ctx.events
    want = oracle.answer(
        *bounds(lower, upper),
        filters,
        params.get("group_by"),
        params.get("aggregation"),
        comparison=params.get("comparison") == "1",
    )
    if params.get("comparison") and not params.get("group_by"):
        body = get(ctx, f"/v2/{resource}/analytics", body_params)
        assert list(body) == ["success", "data"]
        rows = body["data"]
    else:
        rows = all_pages(ctx, f"/v2/{resource}/analytics", body_params, page_size=7)
    assert_rows(rows, want, (resource, params))
    family = "sessions" if resource == "user" else "events"
    for row in rows:
        assert row["dashboard_link"].startswith(f"{ctx.loaded.server.base_url}/app/{ctx.loaded.a.appid}/{family}/list/1?")
    # the same as a POST with a JSON body
    r = ctx.client.post(f"/v2/{resource}/analytics", json={**body_params, "page_size": 500}, headers=ctx.headers)
    assert r.status_code == 200, r.text
    assert_rows(r.json()["data"], want, "POST")


def test_default_metrics_are_the_specs(ctx: Ctx) -> None:
    users = get(ctx, "/v2/user/analytics", {})["data"][0]
    assert list(users) == [
        "user_count",
        "session_new_users_count",
        "avg_user_session_count",
        "avg_user_session_duration",
        "avg_user_rage_gesture_count",
        "avg_user_event_count",
        "avg_user_session_screen_count",
        "dashboard_link",
    ]
    events = get(ctx, "/v2/event/analytics", {})["data"][0]
    assert list(events) == ["event_count", "event_unique_user_count", "event_unique_session_count", "dashboard_link"]
    # over the whole default window: every user, every event of app A
    assert users["user_count"] == len({d["user"]["uxcamuserid"] for d in ctx.loaded.docs_a})
    assert events["event_count"] == sum(len(d.get("events") or []) for d in ctx.loaded.docs_a)
    assert events["event_unique_session_count"] == sum(1 for d in ctx.loaded.docs_a if d.get("events"))


def test_user_groups_rank_by_users_not_sessions(ctx: Ctx) -> None:
    group_by = [{"attribute": "device_model", "max_group_number": 4}]
    rows = all_pages(ctx, "/v2/user/analytics", {"group_by": group_by})
    kept = [r for r in rows if r["device_model"] != "others"]
    assert len(kept) == 4
    others = next(r for r in rows if r["device_model"] == "others")
    assert min(r["user_count"] for r in kept) >= 1
    assert rows[-1] is others or others["user_count"] >= rows[-1]["user_count"]


# -- another app, bad requests ---------------------------------------------------------------------------------


def test_another_apps_rows_never_appear(ctx: Ctx, loaded) -> None:
    a_users = {d["user"]["uxcamuserid"] for d in loaded.docs_a}
    b_users = {d["user"]["uxcamuserid"] for d in loaded.docs_b}
    b_sessions = {d["sessionId"] for d in loaded.docs_b}
    users = all_pages(ctx, "/v2/user", {})
    assert {u["uxcamUserId"] for u in users} == a_users
    events = all_pages(ctx, "/v2/event", {"filters": [{"attribute": "event_name", "operator": "equal", "value": "Purchase"}]})
    assert not {e["sessionProperty"]["sessionId"] for e in events} & b_sessions
    b_view = get(ctx, "/v2/user/analytics", {}, headers=loaded.b.read_headers)["data"][0]
    assert b_view["user_count"] == len(b_users)
    b_events = get(ctx, "/v2/event/analytics", {}, headers=loaded.b.read_headers)["data"][0]
    assert b_events["event_count"] == sum(len(d.get("events") or []) for d in loaded.docs_b)
    # A's key with B's app id: 401, whatever the endpoint
    for path in ("/v2/user", "/v2/event", "/v2/user/analytics", "/v2/event/analytics", "/v2/event/export"):
        headers = {"appid": loaded.b.appid, "apikey": loaded.a.apikey}
        get(ctx, path, {}, headers=headers, status=401)


@pytest.mark.parametrize(
    "path,params,param,where",
    [
        ("/v2/user", {"filters": [{"attribute": "event_screen_name", "operator": "equal", "value": "x"}]}, "filters", "[0].attribute"),
        ("/v2/user", {"filters": [{"attribute": "user_session_count", "operator": "contains", "value": "1"}]}, "filters", "[0].operator"),
        ("/v2/user", {"filters": [{"attribute": "user_first_seen_on", "operator": "on", "value": "yesterday"}]}, "filters", "[0].value"),
        ("/v2/event", {"filters": [{"attribute": "user_session_count", "operator": "greater", "value": 1}]}, "filters", "[0].attribute"),
        ("/v2/event", {"filters": [{"attribute": "event_name", "operator": "not_in", "value": ["a"], "property": {"name": "p", "operator": "equal", "value": "1"}}]}, "filters", "[0].operator"),
        ("/v2/event/analytics", {"group_by": [{"attribute": "session_uploadedon_day"}]}, "group_by", "[0].attribute"),
        ("/v2/user/analytics", {"aggregation": [{"attribute": "event_count", "operator": ""}]}, "aggregation", "[0].attribute"),
        ("/v2/user/analytics", {"group_by": [{"attribute": "user_session_count"}]}, "group_by", "[0].attribute"),
    ],
)
def test_bad_requests_name_the_parameter_and_path(ctx: Ctx, path: str, params: dict, param: str, where: str) -> None:
    body = get(ctx, path, params, status=400)
    assert body["success"] is False
    assert body["error"]["param"] == param and body["error"]["path"] == where, body
