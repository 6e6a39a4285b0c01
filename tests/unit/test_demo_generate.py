"""Unit tests for the deterministic demo session generator."""

from __future__ import annotations

import collections
import datetime
import re
from collections.abc import Iterator

import orjson
import pytest

from sessionscope.demo import generate_sessions

NOW = datetime.datetime(2023, 11, 29, 18, 30, 15, tzinfo=datetime.UTC)
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
HEX24 = re.compile(r"^[0-9a-f]{24}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")

STABLE_DEVICE_KEYS = (
    "model",
    "producer",
    "deviceId",
    "osName",
    "osVersion",
    "country",
    "language",
    "type",
    "class",
    "width",
    "height",
    "dpi",
    "platform",
    "carrierName",
    "carrierCode",
    "totalRamInKB",
    "totalStorageInKB",
)
CUSTOM_KEYS = (
    "kUXCam_UserIdentity",
    "alias",
    "gender",
    "age_group",
    "language",
    "loyalty_card",
    "acqn_source",
    "exp_var_key",
    "plan",
    "lifetime_value",
    "is_beta",
    "orders",
)


def _parse(ts: str) -> datetime.datetime:
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    return list(generate_sessions(5000, days=30, seed=7, now=NOW))


# ---------------------------------------------------------------------------
# API / determinism
# ---------------------------------------------------------------------------


def test_returns_lazy_iterator():
    it = generate_sessions(10, now=NOW)
    assert isinstance(it, Iterator)
    assert not isinstance(it, list)
    first = next(it)
    assert isinstance(first, dict)


@pytest.mark.parametrize("n", [0, 1, 2, 7, 8, 9, 333])
def test_count_exact(n):
    assert sum(1 for _ in generate_sessions(n, now=NOW)) == n


def test_deterministic_bytes():
    a = [orjson.dumps(d) for d in generate_sessions(600, days=14, seed=123, now=NOW)]
    b = [orjson.dumps(d) for d in generate_sessions(600, days=14, seed=123, now=NOW)]
    assert a == b


def test_different_seed_differs():
    a = [orjson.dumps(d) for d in generate_sessions(200, seed=1, now=NOW)]
    b = [orjson.dumps(d) for d in generate_sessions(200, seed=2, now=NOW)]
    assert a != b
    ids_a = {orjson.loads(x)["sessionId"] for x in a}
    ids_b = {orjson.loads(x)["sessionId"] for x in b}
    assert not ids_a & ids_b


def test_documents_are_independent_objects():
    it = generate_sessions(50, seed=3, now=NOW)
    first = next(it)
    first["user"]["alias"] = "MUTATED"
    first["device"]["model"] = "MUTATED"
    first["location"]["city"] = "MUTATED"
    for d in it:
        assert d["user"]["alias"] != "MUTATED"
        assert d["device"]["model"] != "MUTATED"
        assert d["location"]["city"] != "MUTATED"


def test_json_roundtrip(docs):
    for d in docs[:500]:
        assert orjson.loads(orjson.dumps(d)) == d


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"n": 5, "now": datetime.datetime(2023, 1, 1)}, ValueError),
        ({"n": -1, "now": NOW}, ValueError),
        ({"n": 5, "days": 0, "now": NOW}, ValueError),
        ({"n": 2.5, "now": NOW}, TypeError),
    ],
)
def test_argument_validation(kwargs, exc):
    with pytest.raises(exc):
        generate_sessions(**kwargs)


# ---------------------------------------------------------------------------
# Document shape
# ---------------------------------------------------------------------------


def test_top_level_shape_and_types(docs):
    for d in docs:
        assert HEX24.match(d["sessionId"])
        p = d["property"]
        for key in ("offlineRecorded", "hasVideo", "isCrashed"):
            assert type(p[key]) is bool
        assert type(p["durationSec"]) is float
        for key in ("totalGesture", "rageGestureCount", "responsiveGestureCount", "unresponsiveGestureCount"):
            assert type(p[key]) is int and p[key] >= 0
        assert p["networkType"] in {"wifi", "cellular", "4g", "5g", "none"}
        assert HEX24.match(d["user"]["uxcamuserid"])
        assert HEX16.match(d["device"]["deviceId"])
        loc = d["location"]
        assert type(loc["latitude"]) is float and -90 <= loc["latitude"] <= 90
        assert type(loc["longitude"]) is float and -180 <= loc["longitude"] <= 180
        assert len(loc["countryCode"]) == 2 and loc["city"]
        assert isinstance(d["screens"], list) and d["screens"]
        assert all(isinstance(s, str) for s in d["screens"])
        for e in d["events"]:
            assert set(e) == {"name", "screen", "timeSec", "properties"}
            assert type(e["timeSec"]) is float and isinstance(e["properties"], dict)


def test_session_ids_unique():
    ids = [d["sessionId"] for d in generate_sessions(20000, seed=11, now=NOW)]
    assert len(set(ids)) == len(ids)


def test_times_inside_window_and_well_formed(docs):
    lo = NOW - datetime.timedelta(days=30)
    for d in docs:
        p = d["property"]
        for key in ("uploadedServerTime", "deviceLocalDateTime", "verifiedServerTime"):
            assert TS_RE.match(p[key]), p[key]
            assert lo <= _parse(p[key]) <= NOW
        assert p["verifiedServerTime"] == p["uploadedServerTime"]
        up = _parse(p["uploadedServerTime"])
        start = _parse(p["deviceLocalDateTime"])
        assert start <= up
        # session start is at least `durationSec` before the upload
        assert (up - start).total_seconds() >= int(p["durationSec"])
        if not p["offlineRecorded"]:
            assert (up - start).total_seconds() <= p["durationSec"] + 120


@pytest.mark.parametrize("days", [1, 2, 7])
def test_short_windows_and_odd_now(days):
    now = datetime.datetime(
        2024, 3, 10, 1, 2, 3, 456789, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    )
    lo = now - datetime.timedelta(days=days)
    docs = list(generate_sessions(800, days=days, seed=5, now=now))
    assert len(docs) == 800
    for d in docs:
        p = d["property"]
        for key in ("uploadedServerTime", "deviceLocalDateTime", "verifiedServerTime"):
            assert lo <= _parse(p[key]) <= now


def test_offline_sessions_can_lag(docs):
    offline = [d for d in docs if d["property"]["offlineRecorded"]]
    assert 0.02 * len(docs) <= len(offline) <= 0.09 * len(docs)
    lags = [
        (
            _parse(d["property"]["uploadedServerTime"]) - _parse(d["property"]["deviceLocalDateTime"])
        ).total_seconds()
        - d["property"]["durationSec"]
        for d in offline
    ]
    assert max(lags) > 3600


def test_daily_rhythm_and_growth(docs):
    lo = NOW - datetime.timedelta(days=30)
    first_half = sum(
        1 for d in docs if _parse(d["property"]["uploadedServerTime"]) < lo + datetime.timedelta(days=15)
    )
    assert first_half < len(docs) / 2  # activity grows over the window
    # US users are more active in their evening than in their small hours (UTC-5..-8)
    us = [d for d in docs if d["location"]["countryCode"] == "US"]
    hours = collections.Counter(int(d["property"]["uploadedServerTime"][11:13]) for d in us)
    evening_utc = sum(hours[h] for h in (0, 1, 2, 3))  # ~19-22 h local on the east coast
    night_utc = sum(hours[h] for h in (8, 9, 10, 11))  # ~3-6 h local
    assert evening_utc > 2 * night_utc


# ---------------------------------------------------------------------------
# Internal consistency
# ---------------------------------------------------------------------------


def test_totals_consistent(docs):
    omitted = 0
    for d in docs:
        p = d["property"]
        assert p["totalGesture"] == p["responsiveGestureCount"] + p["unresponsiveGestureCount"]
        assert 0 <= p["rageGestureCount"] <= min(p["totalGesture"], 12)
        if "totalScreen" in p:
            assert p["totalScreen"] == len(d["screens"])
            assert p["uniqueScreensCount"] == len(set(d["screens"]))
        else:
            assert "uniqueScreensCount" not in p
            omitted += 1
        assert 3.0 <= p["durationSec"] <= 3600.0
        assert round(p["durationSec"], 3) == p["durationSec"]
    assert 0.04 * len(docs) <= omitted <= 0.16 * len(docs)


def test_rates_plausible(docs):
    n = len(docs)
    crashed = sum(d["property"]["isCrashed"] for d in docs)
    assert 0.01 * n <= crashed <= 0.06 * n
    rage = sum(1 for d in docs if d["property"]["rageGestureCount"] > 0)
    assert 0 < rage < 0.15 * n


def test_events_consistent_with_screens(docs):
    for d in docs:
        screens = set(d["screens"])
        duration = d["property"]["durationSec"]
        last = 0.0
        for e in d["events"]:
            assert e["screen"] in screens
            assert 0.0 <= e["timeSec"] <= duration
            assert e["timeSec"] >= last
            last = e["timeSec"]


def test_purchase_after_add_to_cart(docs):
    purchases = 0
    for d in docs:
        names = [e["name"] for e in d["events"]]
        for idx, name in enumerate(names):
            if name == "Purchase":
                purchases += 1
                assert "Add to cart" in names[:idx]
                e = d["events"][idx]
                assert e["properties"]["payment_method"] in {"Paypal", "Cash", "Card", "Apple Pay"}
                assert e["properties"]["price"] > 0
                # Purchase happens on the confirmation screen
                assert "Confirmation" in e["screen"] or e["screen"] == "/order/confirmation"
                if d["device"].get("platform") == "android":
                    assert e["properties"]["payment_method"] != "Apple Pay"
    assert purchases > 0


def test_event_properties(docs):
    seen = collections.Counter()
    for d in docs:
        for e in d["events"]:
            seen[e["name"]] += 1
            props = e["properties"]
            if e["name"] == "Add to cart":
                assert "Product" in e["screen"] or e["screen"].startswith("/products/")
                assert props["price"] > 0 and props["quantity"] >= 1
            elif e["name"] == "View Product":
                assert set(props) >= {"product_id", "price", "category"}
            elif e["name"] == "Search":
                assert isinstance(props["query"], str) and props["query"]
            elif e["name"] == "UI Freeze":
                assert isinstance(props["duration"], float) and props["duration"] > 0
    for name in (
        "App Open",
        "Search",
        "View Product",
        "Add to cart",
        "Checkout Started",
        "Purchase",
        "Login",
        "UI Freeze",
        "Share",
    ):
        assert seen[name] > 0, name


def test_screen_names_match_platform(docs):
    for d in docs:
        platform = d["device"].get("platform")
        if platform == "android":
            assert all(s.endswith("Activity") for s in d["screens"])
        elif platform == "ios":
            assert all(s.endswith("ViewController") for s in d["screens"])
        else:
            assert all(s.startswith("/") for s in d["screens"])


def test_crashed_sessions_end_on_a_screen(docs):
    crashed = [d for d in docs if d["property"]["isCrashed"]]
    assert crashed
    last_screens = collections.Counter(d["screens"][-1] for d in crashed)
    # crashes concentrate on a few screens rather than being spread evenly
    assert last_screens.most_common(1)[0][1] >= 0.15 * len(crashed)


# ---------------------------------------------------------------------------
# Platform mix / web sessions
# ---------------------------------------------------------------------------


def test_platform_mix(docs):
    n = len(docs)
    mix = collections.Counter("web" if "web" in d else d["device"]["platform"] for d in docs)
    assert set(mix) == {"android", "ios", "web"}
    assert 0.48 * n <= mix["android"] <= 0.72 * n
    assert 0.23 * n <= mix["ios"] <= 0.47 * n
    assert 0.015 * n <= mix["web"] <= 0.10 * n


def test_web_sessions(docs):
    web = [d for d in docs if "web" in d]
    assert web
    with_referer = with_utm = 0
    for d in web:
        dev = d["device"]
        w = d["web"]
        assert "platform" not in dev
        assert dev["type"] in {"Desktop", "Tablet", "Phone"}
        assert w["deviceType"] == dev["type"]
        assert w["osName"] == dev["osName"]
        assert w["browserName"] and re.match(r"^\d+\.\d+$", w["browserVersion"])
        if "referer" in w:
            with_referer += 1
            assert w["referer"].startswith("https://")
        if "utm" in w:
            with_utm += 1
            assert set(w["utm"]) == {"utm_source", "utm_medium", "utm_campaign"}
        assert all(s.startswith("/") for s in d["screens"])
    assert 0 < with_referer < len(web)
    assert 0 < with_utm < len(web)
    for d in docs:
        if "web" not in d:
            assert d["device"]["platform"] in {"android", "ios"}


def test_mobile_device_consistency(docs):
    for d in docs:
        dev = d["device"]
        if "web" in d:
            continue
        if dev["platform"] == "ios":
            assert dev["producer"] == "Apple" and dev["osName"] == "iOS"
            assert dev["model"].startswith(("iPhone", "iPad"))
            assert dev["class"] in {"iPhone Small", "iPhone Medium", "iPhone Large", "iPad"}
            assert (dev["type"] == "Tablet") == (dev["class"] == "iPad")
            assert dev["freeRamInKb"] is None
        else:
            assert dev["osName"] == "Android" and dev["producer"] != "Apple"
            assert dev["class"].startswith("Android ")
            assert (dev["type"] == "Tablet") == (dev["class"] == "Android Tablet")
        assert dev["width"] < dev["height"]
        assert dev["appVersion"] in {"1.3", "1.4", "1.5", "2.0", "2.1"}
        if dev["type"] == "Phone":
            assert dev["carrierName"] and dev["carrierCode"].isdigit()


# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------


def test_user_stable_fields(docs):
    by_user: dict[str, dict] = {}
    for d in docs:
        uid = d["user"]["uxcamuserid"]
        snapshot = (
            {k: d["user"].get(k, "<missing>") for k in CUSTOM_KEYS},
            {k: d["device"].get(k, "<missing>") for k in STABLE_DEVICE_KEYS},
            d["location"],
            "web" in d,
            (d["web"]["browserName"], d["web"]["browserVersion"]) if "web" in d else None,
        )
        if uid in by_user:
            assert by_user[uid] == snapshot, uid
        else:
            by_user[uid] = snapshot


def test_user_population(docs):
    n = len(docs)
    per_user = collections.Counter(d["user"]["uxcamuserid"] for d in docs)
    assert 0.4 * (n / 8) <= len(per_user) <= n / 8
    counts = sorted(per_user.values(), reverse=True)
    small = sum(1 for c in counts if c <= 2)
    assert small >= 0.3 * len(counts)  # many light users
    assert counts[0] >= 10 * counts[len(counts) // 2]  # a few heavy ones
    # identities: present for most users, absent for some, unique per user
    users = {d["user"]["uxcamuserid"]: d["user"] for d in docs}
    idents = [u["kUXCam_UserIdentity"] for u in users.values() if "kUXCam_UserIdentity" in u]
    assert 0.55 * len(users) <= len(idents) <= 0.85 * len(users)
    assert len(set(idents)) == len(idents)
    assert all(re.match(r"^U#\d+$", i) for i in idents)
    # device ids are per user
    dev_ids = {d["device"]["deviceId"] for d in docs}
    assert len(dev_ids) == len(users)
    # aliases look like "First Last"
    assert all(len(u["alias"].split(" ")) >= 2 for u in users.values())
    # some users lack some custom properties
    assert any("age_group" not in u for u in users.values())
    assert sum("age_group" in u for u in users.values()) > 0.75 * len(users)


def test_custom_property_values(docs):
    ages = {"10-19", "20-29", "30-39", "40-49", "50-59", "60-69"}
    for d in docs:
        u = d["user"]
        if "age_group" in u:
            assert u["age_group"] in ages
        if "plan" in u:
            assert u["plan"] in {"free", "pro", "enterprise"}
        if "loyalty_card" in u:
            assert u["loyalty_card"] in {"yes", "no"}
        if "lifetime_value" in u:
            assert type(u["lifetime_value"]) is float and u["lifetime_value"] >= 0
        if "is_beta" in u:
            assert type(u["is_beta"]) is bool
        if "orders" in u:
            assert type(u["orders"]) is int and u["orders"] >= 0


def test_geography_varied(docs):
    countries = collections.Counter(d["location"]["countryCode"] for d in docs)
    assert len(countries) >= 10
    cities = {(d["location"]["countryCode"], d["location"]["city"]) for d in docs}
    assert len(cities) >= 30
    for d in docs:
        if "carrierCode" in d["device"]:
            assert d["device"]["carrierCode"].isdigit()


def test_output_independent_of_user_cache(monkeypatch):
    """Users outside the cache are rebuilt on demand; they must come out identical."""
    from sessionscope.demo import generate as gen

    cached = [orjson.dumps(d) for d in generate_sessions(1500, seed=9, now=NOW)]
    monkeypatch.setattr(gen._Population, "CACHE_RANKS", 0)
    uncached = [orjson.dumps(d) for d in generate_sessions(1500, seed=9, now=NOW)]
    assert cached == uncached
