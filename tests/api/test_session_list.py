"""`GET /v2/session` against a real server and a real DuckDB file, checked against an independent oracle.

Every test compares what the server answers with `list_oracle.Oracle`, a plain-Python reading of the
contract (SPEC §3–§5, docs/api.md) over the very documents that were ingested.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .list_oracle import Oracle, format_time

BIG_PAGE = 500
SMALL_PAGE = 7
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
NO_VIDEO = "No video available for this session"

# The keys the reference's List Sessions rows carry (seed-sessions.md, "Response Structure").
ROW_KEYS = {"sessionId", "video", "sessionNumber", "url", "property", "user", "device", "location"}
REF_PROPERTY = {
    "uploadedServerTime",
    "deviceLocalDateTime",
    "verifiedServerTime",
    "offlineRecorded",
    "hasVideo",
    "isCrashed",
    "durationSec",
    "totalGesture",
    "totalScreen",
    "uniqueScreensCount",
    "rageGestureCount",
    "networkType",
}
EXT_PROPERTY = {"responsiveGestureCount", "unresponsiveGestureCount", "uniqueScreens"}
REF_DEVICE = {
    "carrierCode",
    "carrierName",
    "osName",
    "appVersion",
    "sdkVersion",
    "osVersion",
    "language",
    "country",
    "totalStorageInKB",
    "totalRamInKB",
    "freeRamInKb",
    "dpi",
    "height",
    "width",
    "type",
    "class",
    "producer",
    "model",
    "deviceId",
    "isNotificationEnabled",
    "isRooted",
    "platform",
}
REF_LOCATION = {"countryCode", "city", "longitude", "latitude"}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


# --------------------------------------------------------------------------------------------------
# Context: the data of app A and helpers to pick filter values from it
# --------------------------------------------------------------------------------------------------


@dataclass
class Ctx:
    gen: datetime
    docs: list[dict]
    oracle: Oracle
    ups: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ups = sorted({s.uploaded for s in self.oracle.sessions.values()})

    def t(self, q: float) -> datetime:
        """The upload time at quantile q of the distinct upload times (an exact session time)."""
        return self.ups[int(q * (len(self.ups) - 1))]

    def day(self, days_back: int) -> str:
        return (self.gen - timedelta(days=days_back)).date().isoformat()

    def values(self, getter: Callable[[dict], Any]) -> list[Any]:
        out = []
        for d in self.docs:
            try:
                v = getter(d)
            except (KeyError, TypeError):
                continue
            if v is not None:
                out.append(v)
        return out

    def most_common(self, getter: Callable[[dict], Any]) -> Any:
        counts: dict[Any, int] = {}
        for v in self.values(getter):
            counts[v] = counts.get(v, 0) + 1
        return max(counts, key=lambda v: (counts[v], str(v)))

    def non_ascii_alias(self) -> str:
        return next(d["user"]["alias"] for d in self.docs if not d["user"]["alias"].isascii())

    def sid(self, i: int) -> str:
        return self.docs[i]["sessionId"]

    def heavy_user(self) -> str:
        counts: dict[str, int] = {}
        for d in self.docs:
            counts[d["user"]["uxcamuserid"]] = counts.get(d["user"]["uxcamuserid"], 0) + 1
        return max(counts, key=lambda u: (counts[u], u))

    def first_name(self) -> str:
        return self.docs[5]["user"]["alias"].split()[0]


@pytest.fixture(scope="module")
def ctx_a(loaded) -> Ctx:
    return Ctx(loaded.generated_at, loaded.docs_a, Oracle(loaded.docs_a))


@pytest.fixture(scope="module")
def ctx_b(loaded) -> Ctx:
    return Ctx(loaded.generated_at, loaded.docs_b, Oracle(loaded.docs_b))


# --------------------------------------------------------------------------------------------------
# Talking to the server
# --------------------------------------------------------------------------------------------------


def get_page(loaded, headers: dict, filters: list[dict] | None, page: int, page_size: int, **extra) -> dict:
    params: dict[str, Any] = {"page": page, "page_size": page_size, **extra}
    if filters is not None:
        params["filters"] = json.dumps(filters)
    r = loaded.client.get("/v2/session", params=params, headers=headers)
    assert r.status_code == 200, (filters, r.text)
    body = r.json()
    assert body["success"] is True
    assert isinstance(body["data"], list)
    assert set(body["pagination"]) == {"current", "next", "total"}
    return body


def ids_of(body: dict) -> list[str]:
    return [row["sessionId"] for row in body["data"]]


def assert_listing(loaded, headers: dict, filters: list[dict], expected: list[str]) -> None:
    """All pages of 500, then a few pages of 7 (first, second, a middle one, the last, one past the end)."""
    page = 1
    got: list[str] = []
    while True:
        body = get_page(loaded, headers, filters, page, BIG_PAGE)
        want_ids, want_pagination = Oracle.page(expected, page, BIG_PAGE)
        assert ids_of(body) == want_ids, f"page {page} of {BIG_PAGE}"
        assert body["pagination"] == want_pagination
        got += ids_of(body)
        if body["pagination"]["next"] is None:
            break
        page += 1
        assert page <= len(expected) // BIG_PAGE + 1, "server pages past the oracle's end"
    assert got == expected

    last = max(1, -(-len(expected) // SMALL_PAGE))
    for p in sorted({1, 2, (last + 1) // 2, last, last + 1}):
        body = get_page(loaded, headers, filters, p, SMALL_PAGE)
        want_ids, want_pagination = Oracle.page(expected, p, SMALL_PAGE)
        assert ids_of(body) == want_ids, f"page {p} of {SMALL_PAGE}"
        assert body["pagination"] == want_pagination, f"page {p} of {SMALL_PAGE}"


# --------------------------------------------------------------------------------------------------
# The filter cases
# --------------------------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    build: Callable[[Ctx], list[dict]]
    expect: str = "some"  # "some": 0 < n < window size; "empty": n == 0; "all": every session in the window


def f(attribute: str, operator: str, value: Any = None, **kw) -> dict:
    out = {"attribute": attribute, "operator": operator, "value": value}
    out.update(kw)
    return out


def c(id: str, build: Callable[[Ctx], list[dict]] | list[dict], expect: str = "some") -> Case:
    if isinstance(build, list):
        fixed = build
        return Case(id, lambda ctx: fixed, expect)
    return Case(id, build, expect)


def ucp(op: str, name: str, value: Any) -> dict:
    return f("user_custom_property", op, value, property_name=name)


def ecp(op: str, name: str, value: Any) -> dict:
    return f("event_custom_property", op, value, property_name=name)


def ev(op: str, value: Any, prop: dict | None = None) -> dict:
    out = f("event_name", op, value)
    if prop is not None:
        out["property"] = prop
    return out


def dr(op: str, value: Any) -> dict:
    return f("date_range", op, value)


def iso(dt: datetime) -> str:
    return format_time(dt)


def iso_offset(dt: datetime, hours: int) -> str:
    """The same instant written with a +HH:00 offset."""
    return (dt + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S") + f"+{hours:02d}:00"


def _dur(ctx: Ctx, q: float) -> float:
    vals = sorted(ctx.values(lambda d: d["property"]["durationSec"]))
    return vals[int(q * (len(vals) - 1))]


def _ltv(ctx: Ctx, q: float) -> float:
    vals = sorted(ctx.values(lambda d: d["user"]["lifetime_value"]))
    return vals[int(q * (len(vals) - 1))]


CASES: list[Case] = [
    # -- strings: every operator, case sensitivity, numbers sent for strings
    c("country-equal", [f("device_country", "equal", "USA")]),
    c("country-not_equal", [f("device_country", "not_equal", "USA")]),
    c("country-in", [f("device_country", "in", ["Canada", "India", "Atlantis"])]),
    c("country-not_in", [f("device_country", "not_in", ["USA", "United Kingdom"])]),
    c("country-contains", [f("device_country", "contains", "United")]),
    c("country-not_contains", [f("device_country", "not_contains", "a")]),
    c("manufacturer-contains-S", [f("device_manufacturer", "contains", "S")]),
    c("manufacturer-equal-wrong-case", [f("device_manufacturer", "equal", "samsung")], "empty"),
    c("manufacturer-contains-wrong-case", [f("device_manufacturer", "contains", "sam")], "empty"),
    c("manufacturer-not_equal-wrong-case", [f("device_manufacturer", "not_equal", "samsung")], "all"),
    c("manufacturer-in", [f("device_manufacturer", "in", ["Samsung", "Sony"])]),
    c("model-not_contains", [f("device_model", "not_contains", "iPhone")]),
    c("model-in", [f("device_model", "in", ["SM-A135F", "Pixel 7", "iPhone13,4"])]),
    c("city-equal", [f("device_city", "equal", "London")]),
    c("city-not_in", [f("device_city", "not_in", ["London", "Toronto"])]),
    c("app_version-equal", [f("app_version", "equal", "1.5")]),
    c("app_version-equal-number", [f("app_version", "equal", 1.5)]),
    c("app_version-in", [f("app_version", "in", ["1.3", "1.4"])]),
    c("app_version-not_equal", [f("app_version", "not_equal", "2.1")]),
    c("sdk_version-contains", [f("sdk_version", "contains", "3.6")]),
    c("os_version-equal-number", [f("device_os_version", "equal", 14)]),
    c("os_version-not_contains", [f("device_os_version", "not_contains", ".")]),
    c("device_class-equal", [f("device_class", "equal", "Android Large")]),
    c("device_class-contains", [f("device_class", "contains", "Web")]),
    c("device_id-equal", lambda ctx: [f("device_id", "equal", ctx.docs[3]["device"]["deviceId"])]),
    c("session_id-equal", lambda ctx: [f("session_id", "equal", ctx.sid(17))]),
    c("session_id-in", lambda ctx: [f("session_id", "in", [ctx.sid(i) for i in (1, 50, 999, 2999)])]),
    c("session_id-not_in", lambda ctx: [f("session_id", "not_in", [ctx.sid(i) for i in range(0, 3000, 3)])]),
    c("uxcamuserid-equal", lambda ctx: [f("uxcamuserid", "equal", ctx.heavy_user())]),
    c("uxcamuserid-not_equal", lambda ctx: [f("uxcamuserid", "not_equal", ctx.heavy_user())]),
    c("user_name-contains", lambda ctx: [f("user_name", "contains", ctx.first_name())]),
    c("user_name-equal", lambda ctx: [f("user_name", "equal", ctx.docs[8]["user"]["alias"])]),
    c("os_name-equal", [f("device_os_name", "equal", "iOS")]),
    c("user_name-equal-unicode", lambda ctx: [f("user_name", "equal", ctx.non_ascii_alias())]),
    c("app_version-in-number", [f("app_version", "in", [1.5])]),
    c(
        "country-two-negatives",
        [f("device_country", "not_equal", "USA"), f("device_country", "not_in", ["Canada"])],
    ),
    # LIKE wildcards and quotes are plain characters
    c("model-contains-%", [f("device_model", "contains", "%")], "empty"),
    c("model-not_contains-%", [f("device_model", "not_contains", "%")], "all"),
    c("user_name-contains-quote", [f("user_name", "contains", "'")], "empty"),
    c("user_name-contains-backslash", [f("user_name", "contains", "\\")], "empty"),
    c("ucp-contains-underscore", [ucp("contains", "acqn_source", "_")]),
    c("ucp-contains-underscore-not-wildcard", [ucp("contains", "exp_var_key", "t_s")], "empty"),
    c("ucp-contains-percent-not-wildcard", [ucp("contains", "exp_var_key", "t%1")], "empty"),
    c("device_type-in", [f("device_type", "in", ["Tablet", "Desktop"])]),
    # -- platform aliases; web sessions have no platform (missing)
    c("platform-equal-1", [f("device_platform", "equal", 1)]),
    c("platform-equal-'1'", [f("device_platform", "equal", "1")]),
    c("platform-equal-android", [f("device_platform", "equal", "android")]),
    c("platform-equal-2", [f("device_platform", "equal", 2)]),
    c("platform-equal-ios", [f("device_platform", "equal", "ios")]),
    c("platform-not_equal-'2'", [f("device_platform", "not_equal", "2")]),
    c("platform-in-mixed", [f("device_platform", "in", ["1", "ios"])]),
    c("platform-not_in-android", [f("device_platform", "not_in", ["android"])]),
    c("platform-not_in-both", [f("device_platform", "not_in", ["1", "2"])]),
    # -- web-only attributes (missing on mobile sessions)
    c("browser-equal", [f("browser_name", "equal", "Safari")]),
    c("browser-not_equal", [f("browser_name", "not_equal", "Safari")]),
    c("browser-in", [f("browser_name", "in", ["Chrome", "Edge", "Firefox"])]),
    c("browser_version-contains", [f("browser_version", "contains", "1")]),
    c("referer-contains", [f("referer", "contains", "google")]),
    c("referer-not_contains", [f("referer", "not_contains", "google")]),
    # whether a leading "www." belongs to the domain is not in the contract: test what holds either way
    c("referer_domain-contains", [f("referer_domain", "contains", "instagram.com")]),
    c("referer_domain-in", [f("referer_domain", "in", ["google.com", "www.google.com"])]),
    c(
        "utm-equal",
        lambda ctx: [
            f(
                "utm",
                "equal",
                ctx.most_common(lambda d: d["web"]["utm"]["utm_source"]),
                property_name="utm_source",
            )
        ],
    ),
    c("utm-not_equal", [f("utm", "not_equal", "social", property_name="utm_medium")]),
    c("first_screen-equal", [f("user_first_screen_name", "equal", "/")]),
    c("first_referer-contains", [f("user_first_referer", "contains", "https://")]),
    c(
        "first_utm-in",
        [f("user_first_utm", "in", ["facebook", "newsletter", "google"], property_name="utm_source")],
    ),
    # -- numbers: every operator, numeric strings, boundaries on exact stored values
    c("duration-less", [f("session_duration", "less", 60)]),
    c("duration-greater-str", [f("session_duration", "greater", "60")]),
    c("duration-ge-exact", lambda ctx: [f("session_duration", "greater_or_equal", _dur(ctx, 0.7))]),
    c("duration-le-exact", lambda ctx: [f("session_duration", "less_or_equal", _dur(ctx, 0.3))]),
    c("duration-equal-exact", lambda ctx: [f("session_duration", "equal", _dur(ctx, 0.5))]),
    c("duration-not_equal-exact", lambda ctx: [f("session_duration", "not_equal", str(_dur(ctx, 0.5)))]),
    c("gesture-greater", [f("session_gesture_count", "greater", 20)]),
    c("gesture-equal-0", [f("session_gesture_count", "equal", 0)]),
    c("rage-greater-str", [f("session_rage_gesture_count", "greater", "5")]),
    c("responsive-le", [f("session_responsive_gesture_count", "less_or_equal", 3)]),
    c("unresponsive-greater-0", [f("session_unresponsive_gesture_count", "greater", 0)]),
    c("screen_count-equal-1", [f("session_screen_count", "equal", 1)]),
    c("screen_count-greater", [f("session_screen_count", "greater", 10)]),
    c("unique_screens-ge", [f("session_unique_screen_count", "greater_or_equal", 6)]),
    c("unique_screens-less", [f("session_unique_screen_count", "less", "3")]),
    c("session_number-equal-1", [f("session_number_of_user", "equal", 1)]),
    c("session_number-greater", [f("session_number_of_user", "greater", 50)]),
    c("session_number-le-str", [f("session_number_of_user", "less_or_equal", "2")]),
    c("session_number-not_equal", [f("session_number_of_user", "not_equal", 1)]),
    # -- bools in every spelling
    c("crashed-true", [f("session_crashed", "equal", True)]),
    c("crashed-'true'", [f("session_crashed", "equal", "true")]),
    c("crashed-'True'", [f("session_crashed", "equal", "True")]),
    c("crashed-1", [f("session_crashed", "equal", 1)]),
    c("crashed-false", [f("session_crashed", "equal", False)]),
    c("crashed-'False'", [f("session_crashed", "equal", "False")]),
    c("crashed-0", [f("session_crashed", "equal", 0)]),
    c("crashed-not_equal-true", [f("session_crashed", "not_equal", True)]),
    c("crashed-not_equal-'false'", [f("session_crashed", "not_equal", "false")]),
    c("has_video-'true'", [f("session_has_video", "equal", "true")]),
    c("has_video-not_equal-1", [f("session_has_video", "not_equal", 1)]),
    # -- screen lists
    c("screens-has_any", [f("session_screen_list", "has_any", ["OrderConfirmationActivity"])]),
    c(
        "screens-has_any-many",
        [f("session_screen_list", "has_any", ["CartActivity", "CartViewController", "/cart"])],
    ),
    c(
        "screens-not_has_any",
        [f("session_screen_list", "not_has_any", ["HomeActivity", "HomeViewController"])],
    ),
    c("screens-has_any-unknown", [f("session_screen_list", "has_any", ["NoSuchScreen"])], "empty"),
    c("screens-not_has_any-unknown", [f("session_screen_list", "not_has_any", ["NoSuchScreen"])], "all"),
    # -- events, with and without a property condition
    c("event-equal", [ev("equal", "Purchase")]),
    c("event-in", [ev("in", ["UI Freeze", "Share"])]),
    c("event-not_equal", [ev("not_equal", "App Open")]),
    c("event-not_in", [ev("not_in", ["Search", "Login"])]),
    c("event-in-unknown", [ev("in", ["No such event"])], "empty"),
    c("event-price>10", [ev("in", ["Add to cart"], {"name": "price", "operator": "greater", "value": "10"})]),
    c(
        "event-price<=9.99",
        [ev("in", ["Add to cart"], {"name": "price", "operator": "less_or_equal", "value": 9.99})],
    ),
    c(
        "event-qty>=2",
        [ev("equal", "Add to cart", {"name": "quantity", "operator": "greater_or_equal", "value": 2})],
    ),
    c(
        "event-category",
        [
            ev(
                "in",
                ["View Product", "Add to cart"],
                {"name": "category", "operator": "equal", "value": "electronics"},
            )
        ],
    ),
    c(
        "event-payment-in",
        [ev("equal", "Purchase", {"name": "payment_method", "operator": "in", "value": ["Paypal", "Cash"]})],
    ),
    c(
        "event-query-contains",
        [ev("in", ["Search"], {"name": "query", "operator": "contains", "value": "dress"})],
    ),
    c(
        "event-not_in-price>10",
        [ev("not_in", ["Add to cart"], {"name": "price", "operator": "greater", "value": "10"})],
    ),
    c(
        "event-payment-not_equal",
        [ev("equal", "Purchase", {"name": "payment_method", "operator": "not_equal", "value": "Card"})],
    ),
    c(
        "event-missing-prop-negative",
        [ev("in", ["Login"], {"name": "price", "operator": "not_equal", "value": 5})],
    ),
    c(
        "event-prop-on-other-event",
        [ev("equal", "Login", {"name": "price", "operator": "greater", "value": 0})],
        "empty",
    ),
    c("ecp-price>100", [ecp("greater", "price", 100)]),
    c("ecp-price-less-str", [ecp("less", "price", "8")]),
    c("ecp-category-equal", [ecp("equal", "category", "shoes")]),
    c("ecp-payment-in", [ecp("in", "payment_method", ["Apple Pay"])]),
    c("ecp-launch-not_equal", [ecp("not_equal", "launch_type", "cold")]),
    c("ecp-results-equal-0", [ecp("equal", "results", 0)]),
    c("ecp-channel-contains", [ecp("contains", "channel", "a")]),
    c("ecp-method-not_contains", [ecp("not_contains", "method", "o")]),
    c("ecp-price-contains-text", [ecp("contains", "price", ".99")]),
    c("ecp-quantity-ge", [ecp("greater_or_equal", "quantity", 2)]),
    # -- custom user properties: strings, numbers, bools, missing values
    c("ucp-age_group-in", [ucp("in", "age_group", ["20-29"])]),
    c("ucp-gender-equal", [ucp("equal", "gender", "female")]),
    c("ucp-gender-not_equal", [ucp("not_equal", "gender", "female")]),
    c("ucp-gender-contains", [ucp("contains", "gender", "male")]),
    c("ucp-gender-not_contains", [ucp("not_contains", "gender", "male")]),
    c("ucp-gender-not_in", [ucp("not_in", "gender", ["male", "female"])]),
    c("ucp-loyalty-equal", [ucp("equal", "loyalty_card", "yes")]),
    c("ucp-plan-in", [ucp("in", "plan", ["pro", "enterprise"])]),
    c("ucp-ltv-greater", [ucp("greater", "lifetime_value", 100)]),
    c("ucp-ltv-le-str", [ucp("less_or_equal", "lifetime_value", "50.5")]),
    c("ucp-ltv-ge-exact", lambda ctx: [ucp("greater_or_equal", "lifetime_value", _ltv(ctx, 0.6))]),
    c("ucp-ltv-equal-0", [ucp("equal", "lifetime_value", 0)]),
    c("ucp-ltv-not_equal-0", [ucp("not_equal", "lifetime_value", 0)]),
    c("ucp-orders-ge", [ucp("greater_or_equal", "orders", 5)]),
    c("ucp-orders-less-str", [ucp("less", "orders", "3")]),
    c("ucp-orders-equal-num", [ucp("equal", "orders", 24)]),
    c("ucp-orders-equal-text", [ucp("equal", "orders", "24")]),
    c("ucp-orders-not_equal-num", [ucp("not_equal", "orders", 24)]),
    c("ucp-orders-in-text", [ucp("in", "orders", ["0", "1", "2"])]),
    c("ucp-orders-not_in-text", [ucp("not_in", "orders", ["0"])]),
    c("ucp-orders-contains-text", [ucp("contains", "orders", "2")]),
    c("ucp-is_beta-equal-text", [ucp("equal", "is_beta", "true")]),
    c("ucp-is_beta-not_equal-text", [ucp("not_equal", "is_beta", "false")]),
    c("ucp-is_beta-equal-bool", [ucp("equal", "is_beta", True)]),
    c("ucp-numeric-op-on-bool", [ucp("greater", "is_beta", 0)], "empty"),
    c("ucp-numeric-op-on-string", [ucp("greater", "age_group", 20)], "empty"),
    c("ucp-unknown-equal", [ucp("equal", "no_such_property", "x")], "empty"),
    c("ucp-unknown-not_equal", [ucp("not_equal", "no_such_property", "x")], "all"),
    # -- the date window (explicit dates relative to the data's generation time)
    c("date-on", lambda ctx: [dr("on", ctx.day(10))]),
    c("date-not_on", lambda ctx: [dr("not_on", ctx.day(10))]),
    c("date-after-day", lambda ctx: [dr("after", ctx.day(3))]),
    c("date-after-exact", lambda ctx: [dr("after", iso(ctx.t(0.5)))]),
    c("date-before-day", lambda ctx: [dr("before", ctx.day(5))]),
    c("date-before-future-day", lambda ctx: [dr("before", ctx.day(-3))]),
    c("date-before-exact", lambda ctx: [dr("before", iso(ctx.t(0.4)))]),
    c("date-before-30d-lower-bound", lambda ctx: [dr("before", iso(ctx.t(0.2) + timedelta(days=30)))]),
    c(
        "date-before-30d-lower-bound-excl",
        lambda ctx: [dr("before", iso(ctx.t(0.2) + timedelta(days=30, seconds=-1)))],
    ),
    c("date-between-days", lambda ctx: [dr("between_dates", {"lower": ctx.day(20), "upper": ctx.day(12)})]),
    c(
        "date-between-exact",
        lambda ctx: [dr("between_dates", {"lower": iso(ctx.t(0.3)), "upper": iso(ctx.t(0.6))})],
    ),
    c(
        "date-between-offset",
        lambda ctx: [
            dr("between_dates", {"lower": iso_offset(ctx.t(0.3), 2), "upper": iso_offset(ctx.t(0.35), 5)})
        ],
    ),
    c(
        "date-between-mixed",
        lambda ctx: [dr("between_dates", {"lower": iso(ctx.t(0.55)), "upper": ctx.day(4)})],
    ),
    c("date-between-same-day", lambda ctx: [dr("between_dates", {"lower": ctx.day(7), "upper": ctx.day(7)})]),
    c("date-on-before-data", lambda ctx: [dr("on", ctx.day(40))], "empty"),
    c("date-after+before", lambda ctx: [dr("after", iso(ctx.t(0.25))), dr("before", iso(ctx.t(0.75)))]),
    c("date-not_on+on-same", lambda ctx: [dr("not_on", ctx.day(6)), dr("on", ctx.day(6))], "empty"),
    c(
        "date-between+not_on-inside",
        lambda ctx: [dr("between_dates", {"lower": ctx.day(20), "upper": ctx.day(12)}), dr("not_on", ctx.day(15))],
    ),
    # -- combinations
    c("usa-ios", [f("device_country", "equal", "USA"), f("device_platform", "equal", 2)]),
    c(
        "after-rage>5",
        lambda ctx: [dr("after", ctx.day(20)), f("session_rage_gesture_count", "greater", "5")],
    ),
    c(
        "ltv-purchase-not-crashed",
        [ucp("greater", "lifetime_value", 100), ev("in", ["Purchase"]), f("session_crashed", "equal", False)],
    ),
    c(
        "between-gender-screens",
        lambda ctx: [
            dr("between_dates", {"lower": ctx.day(25), "upper": ctx.day(2)}),
            ucp("not_equal", "gender", "female"),
            f("session_screen_list", "has_any", ["CartActivity", "CartViewController"]),
        ],
    ),
    c(
        "orders-ecp-not-android",
        [
            ucp("greater", "orders", 5),
            ecp("equal", "category", "apparel"),
            f("device_platform", "not_equal", "android"),
        ],
    ),
    c(
        "addcart>10-country-in",
        [
            ev("in", ["Add to cart"], {"name": "price", "operator": "greater", "value": "10"}),
            f("device_country", "in", ["USA", "Canada"]),
        ],
    ),
    c(
        "first-session-uk",
        [f("session_number_of_user", "equal", 1), f("device_country", "equal", "United Kingdom")],
    ),
]


def _check_expectation(case: Case, expected: list[str], window: list[str]) -> None:
    """Keep the cases honest: a filter that selects nothing or everything proves little unless meant to."""
    if case.expect == "empty":
        assert expected == []
    elif case.expect == "all":
        assert expected == window and window
    else:
        assert 0 < len(expected) < len(window), (len(expected), len(window))


@pytest.mark.parametrize("case", CASES, ids=[x.id for x in CASES])
def test_filter_matches_oracle(loaded, ctx_a: Ctx, case: Case) -> None:
    filters = case.build(ctx_a)
    now = utcnow()
    expected = ctx_a.oracle.matching(filters, now)
    dates = [x for x in filters if x["attribute"] == "date_range"]
    window = ctx_a.oracle.matching(dates if len(dates) < len(filters) else [], now)
    _check_expectation(case, expected, window)
    assert_listing(loaded, loaded.a.read_headers, filters, expected)


# --------------------------------------------------------------------------------------------------
# App B: its own data, and nothing of A's
# --------------------------------------------------------------------------------------------------

B_CASES = [
    c("b-country", [f("device_country", "equal", "USA")]),
    c("b-ucp-ltv", [ucp("greater", "lifetime_value", 100)]),
    c("b-event-price", [ev("in", ["Add to cart"], {"name": "price", "operator": "greater", "value": "10"})]),
    c("b-session_number", [f("session_number_of_user", "greater", 3)]),
]


@pytest.mark.parametrize("case", B_CASES, ids=[x.id for x in B_CASES])
def test_filter_matches_oracle_app_b(loaded, ctx_b: Ctx, case: Case) -> None:
    filters = case.build(ctx_b)
    now = utcnow()
    expected = ctx_b.oracle.matching(filters, now)
    _check_expectation(case, expected, ctx_b.oracle.matching([], now))
    assert_listing(loaded, loaded.b.read_headers, filters, expected)


def test_ids_of_another_app_are_never_listed(loaded, ctx_a: Ctx, ctx_b: Ctx) -> None:
    a_ids = [ctx_a.sid(i) for i in (0, 1, 2)]
    b_ids = [ctx_b.sid(i) for i in (0, 1, 2)]
    now = utcnow()
    flt = [f("session_id", "in", a_ids + b_ids)]
    assert set(ctx_a.oracle.matching(flt, now)) == set(a_ids)
    assert_listing(loaded, loaded.a.read_headers, flt, ctx_a.oracle.matching(flt, now))
    assert_listing(loaded, loaded.b.read_headers, flt, ctx_b.oracle.matching(flt, now))


# --------------------------------------------------------------------------------------------------
# The rows themselves
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def all_rows_a(loaded, ctx_a: Ctx) -> list[dict]:
    rows: list[dict] = []
    page = 1
    while True:
        body = get_page(loaded, loaded.a.read_headers, None, page, BIG_PAGE)
        rows += body["data"]
        if body["pagination"]["next"] is None:
            return rows
        page += 1
        assert page <= 20


def same(got: Any, sent: Any) -> bool:
    """Equal, with JSON types preserved (1 != 1.0 != true)."""
    if isinstance(sent, dict):
        return (
            isinstance(got, dict) and got.keys() == sent.keys() and all(same(got[k], sent[k]) for k in sent)
        )
    if isinstance(sent, list):
        return isinstance(got, list) and len(got) == len(sent) and all(map(same, got, sent))
    return type(got) is type(sent) and got == sent


def test_unfiltered_list_is_every_session_in_order(ctx_a: Ctx, all_rows_a: list[dict]) -> None:
    assert [r["sessionId"] for r in all_rows_a] == ctx_a.oracle.matching([], utcnow())
    assert len(all_rows_a) == len(ctx_a.docs)


def test_every_row_is_the_document_that_was_sent(loaded, ctx_a: Ctx, all_rows_a: list[dict]) -> None:
    public_url = loaded.server.base_url
    appid = loaded.a.appid
    for row in all_rows_a:
        sid = row["sessionId"]
        doc = ctx_a.oracle.doc(sid)
        where = f"session {sid}"
        assert set(row) == ROW_KEYS | ({"web"} if "web" in doc else set()), where
        assert row["video"] is None, where
        assert row["url"] == f"{public_url}/app/{appid}/sessions/list/1/{sid}", where
        assert type(row["sessionNumber"]) is int and row["sessionNumber"] == ctx_a.oracle.session_number(
            sid
        ), where

        # every field that was sent comes back unchanged, with its JSON type
        for section in ("property", "device", "location", "user"):
            for key, value in doc[section].items():
                assert key in row[section], (where, section, key)
                assert same(row[section][key], value), (where, section, key, row[section][key], value)
        if "web" in doc:
            for key, value in doc["web"].items():
                assert same(row["web"].get(key), value), (where, "web", key)

        # the reference's keys are always there (null when not sent); nothing else appears
        prop, dev, loc, user = row["property"], row["device"], row["location"], row["user"]
        assert set(prop) == REF_PROPERTY | EXT_PROPERTY | set(doc["property"]), where
        assert set(dev) == REF_DEVICE | set(doc["device"]), where
        assert set(loc) == REF_LOCATION | set(doc["location"]), where
        assert set(user) == set(doc["user"]) | {"alias", "uxcamuserid"}, where
        for key in REF_DEVICE - set(doc["device"]):
            assert dev[key] is None, (where, "device", key)
        for key in ("uploadedServerTime", "deviceLocalDateTime", "verifiedServerTime"):
            assert TS_RE.match(prop[key]), (where, key, prop[key])

        # derived when absent (SPEC §8.1)
        screens = doc["screens"]
        assert prop["totalScreen"] == doc["property"].get("totalScreen", len(screens)), where
        assert prop["uniqueScreensCount"] == doc["property"].get("uniqueScreensCount", len(set(screens))), (
            where
        )
        assert sorted(prop["uniqueScreens"]) == sorted(set(screens)), where


def test_session_numbers_rank_each_users_sessions(ctx_a: Ctx, all_rows_a: list[dict]) -> None:
    """Per user, the numbers are exactly 1..n, ordered by start time (as the oracle computes)."""
    by_user: dict[str, list[int]] = {}
    for row in all_rows_a:
        by_user.setdefault(row["user"]["uxcamuserid"], []).append(row["sessionNumber"])
    for user, numbers in by_user.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), user
    # the data must exercise it: users with many sessions, and starts that differ from upload order
    assert max(len(n) for n in by_user.values()) > 50
    sessions = ctx_a.oracle.sessions.values()
    by_start = sorted(sessions, key=lambda s: (s.user, s.start, s.uploaded, s.sid))
    by_upload = sorted(sessions, key=lambda s: (s.user, s.uploaded, s.sid))
    assert [s.sid for s in by_start] != [s.sid for s in by_upload]


def test_defaults_page_1_of_50(loaded, ctx_a: Ctx) -> None:
    r = loaded.client.get("/v2/session", headers=loaded.a.read_headers)
    assert r.status_code == 200
    body = r.json()
    want_ids, want_pagination = Oracle.page(ctx_a.oracle.matching([], utcnow()), 1, 50)
    assert ids_of(body) == want_ids
    assert body["pagination"] == want_pagination == {"current": 1, "next": 2, "total": 50}


def test_empty_page_beyond_the_end(loaded, ctx_a: Ctx) -> None:
    filters = [f("device_country", "equal", "USA")]
    expected = ctx_a.oracle.matching(filters, utcnow())
    last = -(-len(expected) // 10)
    body = get_page(loaded, loaded.a.read_headers, filters, last, 10)
    assert ids_of(body) == expected[(last - 1) * 10 :]
    assert body["pagination"] == {"current": last, "next": None, "total": len(expected) - (last - 1) * 10}
    for beyond in (last + 1, last + 50):
        body = get_page(loaded, loaded.a.read_headers, filters, beyond, 10)
        assert body == {
            "success": True,
            "data": [],
            "pagination": {"current": beyond, "next": None, "total": 0},
        }


def test_page_size_1_and_500(loaded, ctx_a: Ctx) -> None:
    filters = [f("device_country", "equal", "Japan")]
    expected = ctx_a.oracle.matching(filters, utcnow())
    for page in (1, len(expected), len(expected) + 1):
        body = get_page(loaded, loaded.a.read_headers, filters, page, 1)
        assert (ids_of(body), body["pagination"]) == Oracle.page(expected, page, 1)
    body = get_page(loaded, loaded.a.read_headers, [f("device_country", "not_equal", "Japan")], 2, 500)
    assert (ids_of(body), body["pagination"]) == Oracle.page(
        ctx_a.oracle.matching([f("device_country", "not_equal", "Japan")], utcnow()), 2, 500
    )


def test_page_size_that_divides_the_total_has_no_next_on_the_last_page(loaded, ctx_a: Ctx) -> None:
    flt = [f("session_id", "in", [ctx_a.sid(i) for i in range(14)])]
    expected = ctx_a.oracle.matching(flt, utcnow())
    assert len(expected) == 14
    body = get_page(loaded, loaded.a.read_headers, flt, 2, 7)
    assert ids_of(body) == expected[7:]
    assert body["pagination"] == {"current": 2, "next": None, "total": 7}
    body = get_page(loaded, loaded.a.read_headers, flt, 3, 7)
    assert body["data"] == [] and body["pagination"] == {"current": 3, "next": None, "total": 0}


# --------------------------------------------------------------------------------------------------
# The POST form and with_video
# --------------------------------------------------------------------------------------------------

POST_CASES = [
    "ucp-ltv-greater",
    "event-price>10",
    "date-between-exact",
    "between-gender-screens",
    "platform-in-mixed",
]


@pytest.mark.parametrize("case_id", POST_CASES)
def test_post_json_body_answers_like_get(loaded, ctx_a: Ctx, case_id: str) -> None:
    case = next(x for x in CASES if x.id == case_id)
    filters = case.build(ctx_a)
    expected = ctx_a.oracle.matching(filters, utcnow())
    for page in (1, 2):
        got = get_page(loaded, loaded.a.read_headers, filters, page, SMALL_PAGE)
        r = loaded.client.post(
            "/v2/session",
            json={"filters": filters, "page": page, "page_size": SMALL_PAGE},
            headers=loaded.a.read_headers,
        )
        assert r.status_code == 200, r.text
        assert r.json() == got
        assert ids_of(got) == Oracle.page(expected, page, SMALL_PAGE)[0]


def test_post_with_a_filter_too_long_for_a_url(loaded, ctx_a: Ctx) -> None:
    # 1,000 values: the server's (undocumented) cap on an `in` list
    ids = [ctx_a.sid(i) for i in range(0, 3000, 4)] + [f"no-such-session-{i}" for i in range(250)]
    filters = [f("session_id", "in", ids), f("device_platform", "not_equal", "ios")]
    expected = ctx_a.oracle.matching(filters, utcnow())
    assert len(ids) == 1000 and len(json.dumps(filters)) > 25_000
    for page in (1, 2):
        r = loaded.client.post(
            "/v2/session",
            json={"filters": filters, "page": page, "page_size": 300},
            headers=loaded.a.read_headers,
        )
        assert r.status_code == 200, r.text
        assert (ids_of(r.json()), r.json()["pagination"]) == Oracle.page(expected, page, 300)


def test_post_with_credentials_in_the_body(loaded, ctx_a: Ctx) -> None:
    filters = [f("device_country", "equal", "Japan")]
    r = loaded.client.post(
        "/v2/session",
        json={"appid": loaded.a.appid, "apikey": loaded.a.apikey, "filters": filters, "page_size": 20},
    )
    assert r.status_code == 200, r.text
    assert ids_of(r.json()) == Oracle.page(ctx_a.oracle.matching(filters, utcnow()), 1, 20)[0]


@pytest.mark.parametrize("flag", ["true", "1"])
def test_with_video_without_uploads(loaded, ctx_a: Ctx, flag: str) -> None:
    # sessions flagged hasVideo by the SDK, but no video was ever uploaded
    filters = [f("session_has_video", "equal", True)]
    expected = ctx_a.oracle.matching(filters, utcnow())
    body = get_page(loaded, loaded.a.read_headers, filters, 1, 40, with_video=flag)
    assert ids_of(body) == expected[:40]
    assert [row["video"] for row in body["data"]] == [NO_VIDEO] * 40
    body = get_page(loaded, loaded.a.read_headers, None, 2, 40, with_video=flag)
    assert [row["video"] for row in body["data"]] == [NO_VIDEO] * 40
    body = get_page(loaded, loaded.a.read_headers, None, 2, 40)
    assert [row["video"] for row in body["data"]] == [None] * 40
