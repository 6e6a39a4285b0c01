"""normalise_batch: validation messages, derivations and the Arrow shape of the ingest tables."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from sessionscope.ingest.derive import (
    FIRST_NAMES,
    LAST_NAMES,
    derive_alias,
    derive_device_class,
    derive_user_id,
    referer_domain,
)
from sessionscope.ingest.normalise import BATCH_SCHEMA, Limits, normalise_batch
from sessionscope.store.received import RECEIVED
from sessionscope.store.schema import EVENT_SCHEMA, SESSION_SCHEMA

APP = "60f6c0b8b97ba419120b82eb"
NOW = datetime(2023, 2, 1, 12, 0, 0)
LIMITS = Limits()

SCREENS = ["Home", "Search", "Product", "Cart", "Checkout", "Payment", "Confirmation", "Profile", "Settings"]
EVENTS = ["App Open", "Search", "Add to cart", "Remove from cart", "Purchase", "Login", "Share"]


def make_doc(i: int) -> dict[str, Any]:
    """A realistic session document: ~10 events, ~8 screens, ~10 custom user properties."""
    screens = [SCREENS[(i + k * 3) % len(SCREENS)] for k in range(8)]
    return {
        "sessionId": f"s{i:08d}",
        "property": {
            "uploadedServerTime": f"2023-01-{1 + i % 28:02d}T10:{i % 60:02d}:47Z",
            "deviceLocalDateTime": f"2023-01-{1 + i % 28:02d}T10:{i % 60:02d}:40Z",
            "offlineRecorded": False,
            "hasVideo": i % 3 == 0,
            "isCrashed": i % 17 == 0,
            "durationSec": 55.009 + i % 100,
            "totalGesture": 26 + i % 10,
            "rageGestureCount": i % 4,
            "responsiveGestureCount": 20,
            "unresponsiveGestureCount": 6 + i % 10,
            "networkType": "wifi",
        },
        "user": {
            "uxcamuserid": f"u{i % 5000:023d}",
            "kUXCam_UserIdentity": f"U#{i % 5000}",
            "gender": "male" if i % 2 else "female",
            "exp_var_key": "test_2",
            "age_group": "10-19",
            "age": 10 + i % 50,
            "language": "English",
            "loyalty_card": "no",
            "acqn_source": "none",
            "premium": i % 2 == 0,
            "ltv": 12.5 + i % 7,
            "tags": ["a", "b"],
        },
        "device": {
            "carrierCode": "42901",
            "carrierName": "Verizon Wireless",
            "osName": "O_MR1",
            "appVersion": "1.5",
            "sdkVersion": "3.3.5",
            "osVersion": "8.1",
            "language": "English",
            "country": "USA",
            "totalStorageInKB": 11289,
            "totalRamInKB": 2815,
            "freeRamInKb": None,
            "dpi": 420,
            "height": 2340,
            "width": 1080,
            "type": "Phone",
            "producer": "Huawei",
            "model": "JKM-LX1",
            "deviceId": f"03c1e1239{i % 5000:07d}",
            "isNotificationEnabled": None,
            "isRooted": False,
            "platform": "android",
        },
        "location": {"countryCode": "US", "city": "Albany", "longitude": -73.7987, "latitude": 42.6664},
        "screens": screens,
        "events": [
            {
                "name": EVENTS[(i + k) % len(EVENTS)],
                "screen": screens[k % len(screens)],
                "timeSec": 1.5 * k,
                "properties": {"price": 10 + k, "currency": "USD", "first": k == 0},
            }
            for k in range(10)
        ],
    }


def norm(docs: list[Any], **kw: Any):
    return normalise_batch(APP, docs, now=kw.pop("now", NOW), limits=kw.pop("limits", LIMITS), **kw)


def one_row(doc: dict[str, Any]) -> dict[str, Any]:
    batch = norm([doc])
    assert batch.rejected == [], batch.rejected
    return batch.sessions.to_pylist()[0]


def errors_of(doc: Any, **kw: Any) -> list[str]:
    batch = norm([doc], **kw)
    assert batch.accepted == 0 and batch.sessions.num_rows == 0
    assert len(batch.rejected) == 1
    return batch.rejected[0]["errors"]


def minimal(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"sessionId": "s1", "user": {"uxcamuserid": "u1"}}
    doc.update(extra)
    return doc


# --- shape ---


def test_tables_have_exactly_the_store_schema() -> None:
    batch = norm([make_doc(i) for i in range(5)])
    # the stored columns, then the flags of times taken from the time of receipt (store/received.py)
    assert batch.sessions.schema.equals(SESSION_SCHEMA.append(pa.field(RECEIVED, pa.uint8(), nullable=False)))
    assert batch.events.schema.equals(EVENT_SCHEMA)
    assert batch.sessions.num_rows == 5 and batch.events.num_rows == 50
    assert batch.accepted == 5 and batch.rejected == []
    assert batch.accepted_ids == [f"s{i:08d}" for i in range(5)]


def test_empty_and_all_invalid_batches_still_have_the_schema() -> None:
    batch = norm([{"sessionId": "bad id!"}])
    assert batch.sessions.schema.equals(BATCH_SCHEMA) and batch.sessions.num_rows == 0
    assert batch.events.schema.equals(EVENT_SCHEMA) and batch.events.num_rows == 0
    assert batch.accepted == 0 and batch.accepted_ids == []


def test_full_document_row() -> None:
    row = one_row(make_doc(1))
    assert row["app_id"] == APP and row["session_id"] == "s00000001"
    assert row["uxcamuserid"] == "u" + "1".zfill(23)
    assert row["uploaded_at"] == datetime(2023, 1, 2, 10, 1, 47)
    assert row["device_local_at"] == datetime(2023, 1, 2, 10, 1, 40)
    assert row["verified_at"] == row["uploaded_at"]
    assert row["started_at"] == row["device_local_at"]
    assert (row["offline_recorded"], row["has_video"], row["is_crashed"]) == (False, False, False)
    assert row["duration_sec"] == pytest.approx(56.009)
    assert (row["total_gesture"], row["rage_gesture_count"]) == (27, 1)
    assert (row["responsive_gesture_count"], row["unresponsive_gesture_count"]) == (20, 7)
    assert row["network_type"] == "wifi" and row["user_identity"] == "U#1"
    assert row["carrier_code"] == "42901" and row["os_name"] == "O_MR1" and row["app_version"] == "1.5"
    assert (row["device_language"], row["device_country"]) == ("English", "USA")
    assert (row["total_storage_kb"], row["total_ram_kb"], row["free_ram_kb"], row["dpi"]) == (
        11289,
        2815,
        None,
        420,
    )
    assert (row["height"], row["width"], row["device_type"]) == (2340, 1080, "Phone")
    assert row["device_class"] == "Android Large"
    assert (row["manufacturer"], row["model"], row["device_id"]) == ("Huawei", "JKM-LX1", "03c1e12390000001")
    assert (row["notification_enabled"], row["is_rooted"], row["platform"]) == (None, False, "android")
    assert (row["country_code"], row["city"], row["longitude"], row["latitude"]) == (
        "US",
        "Albany",
        -73.7987,
        42.6664,
    )
    assert row["is_web"] is False and row["browser_name"] is None and row["web_extra"] is None
    assert row["utm"] is None and row["utm_map"] is None and row["referer_domain"] is None
    assert len(row["screens"]) == 8 and row["total_screen"] == 8
    assert row["unique_screens"] == list(dict.fromkeys(row["screens"]))
    assert row["unique_screens_count"] == len(row["unique_screens"])
    assert row["event_count"] == 10
    assert row["event_names"] == list(dict.fromkeys(EVENTS[(1 + k) % len(EVENTS)] for k in range(10)))
    assert row["extra"] is None
    for col in (
        "session_number",
        "first_referer",
        "first_referer_domain",
        "first_screen_name",
        "first_utm",
        "first_utm_map",
    ):
        assert row[col] is None


def test_minimal_document_defaults() -> None:
    row = one_row(minimal())
    assert row["uploaded_at"] == NOW and row["verified_at"] == NOW and row["started_at"] == NOW
    assert row["device_local_at"] is None
    assert (row["offline_recorded"], row["has_video"], row["is_crashed"]) == (False, False, False)
    assert row["duration_sec"] is None
    for col in (
        "total_gesture",
        "rage_gesture_count",
        "responsive_gesture_count",
        "unresponsive_gesture_count",
        "total_screen",
        "unique_screens_count",
        "platform",
        "device_class",
        "user_props",
        "uprops",
    ):
        assert row[col] is None, col
    assert row["screens"] == [] and row["unique_screens"] == [] and row["event_names"] == []
    assert row["event_count"] == 0 and row["is_web"] is False


def test_now_is_truncated_and_aware_now_is_converted() -> None:
    assert one_row(minimal())["uploaded_at"] == NOW
    batch = norm(
        [minimal()], now=datetime(2023, 2, 1, 14, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=2)))
    )
    assert batch.sessions.column("uploaded_at").to_pylist() == [NOW]


# --- events ---


def test_event_rows() -> None:
    doc = minimal(
        property={"deviceLocalDateTime": "2023-01-16T10:00:00Z", "uploadedServerTime": "2023-01-16T11:00:00Z"}
    )
    doc["events"] = [
        {"name": "Open"},
        {
            "name": "Buy",
            "screen": "Cart",
            "timeSec": 61.9,
            "properties": {"price": 9.5, "qty": 2, "gift": True, "c": "EUR", "n": None},
        },
        {"name": "Open", "timeSec": 3},
    ]
    batch = norm([doc])
    rows = batch.events.to_pylist()
    assert [r["seq"] for r in rows] == [0, 1, 2]
    assert [r["name"] for r in rows] == ["Open", "Buy", "Open"]
    assert (
        rows[0]["time_sec"] == 0.0
        and rows[0]["screen"] is None
        and rows[0]["props"] is None
        and rows[0]["pmap"] is None
    )
    assert rows[1]["event_at"] == datetime(2023, 1, 16, 10, 1, 1)  # started_at + 61.9 s, truncated
    assert rows[2]["time_sec"] == 3.0 and rows[2]["event_at"] == datetime(2023, 1, 16, 10, 0, 3)
    assert all(r["uploaded_at"] == datetime(2023, 1, 16, 11) for r in rows)
    assert all(r["app_id"] == APP and r["session_id"] == "s1" and r["uxcamuserid"] == "u1" for r in rows)
    assert orjson.loads(rows[1]["props"]) == {"price": 9.5, "qty": 2, "gift": True, "c": "EUR"}
    assert rows[1]["pmap"] == [("price", "9.5"), ("qty", "2"), ("gift", "true"), ("c", "EUR")]
    session = batch.sessions.to_pylist()[0]
    assert session["event_names"] == ["Open", "Buy"] and session["event_count"] == 3


def test_event_errors_have_paths() -> None:
    doc = minimal(events=[
        {"screen": "Home"},
        {"name": ""},
        "Open",
        {"name": "X", "timeSec": -1, "screen": True, "properties": {"list": [1], "ok": 1}, "when": 3},
        {"name": "Y", "properties": [1]},
        {"name": "Z", "timeSec": "5"},
    ])  # fmt: skip
    assert errors_of(doc) == [
        "events[0].name: required; a non-empty string",
        "events[1].name: required; a non-empty string",
        "events[2]: must be an object with a name",
        "events[3].screen: must be a string",
        "events[3].timeSec: must be a number of seconds into the session, from 0 to 1000000000",
        "events[3].properties.list: must be a string, number or boolean",
        "events[3].when: unknown field; allowed: name, screen, timeSec, properties",
        "events[4].properties: must be an object",
        'events[5].timeSec: must be a number of seconds into the session, from 0 to 1000000000 (got the string "5"; send it unquoted)',
    ]


def test_events_not_a_list() -> None:
    assert errors_of(minimal(events={"name": "x"})) == ["events: must be a list of event objects"]


def test_too_many_events_screens_and_properties() -> None:
    limits = Limits(max_events_per_session=2, max_screens_per_session=3, max_custom_properties=2)
    doc = minimal(
        events=[{"name": "a"}, {"name": "b"}, {"name": "c", "properties": {"x": 1, "y": 2, "z": 3}}],
        screens=["a", "b", "c", "d"],
    )
    doc["user"].update({"p": 1, "q": 2, "r": 3})
    assert errors_of(doc, limits=limits) == [
        "user: at most 2 custom properties allowed (got 3)",
        "screens: at most 3 screens allowed (got 4)",
        "events: at most 2 events allowed (got 3)",
        "events[2].properties: at most 2 properties allowed (got 3)",
    ]


# --- dedupe ---


def test_last_document_with_a_session_id_wins() -> None:
    first = minimal(events=[{"name": "old"}], property={"durationSec": 1.0})
    second = minimal(events=[{"name": "new"}, {"name": "new2"}], property={"durationSec": 2.0})
    other = minimal(sessionId="s2")
    batch = norm([first, other, second])
    assert batch.accepted == 3 and batch.rejected == []
    assert batch.accepted_ids == ["s1", "s2"]
    assert batch.sessions.column("duration_sec").to_pylist() == [2.0, None]
    assert batch.events.column("name").to_pylist() == ["new", "new2"]


def test_an_invalid_repeat_does_not_replace_a_valid_document() -> None:
    batch = norm([minimal(property={"durationSec": 1.0}), minimal(property={"durationSec": -1})])
    assert batch.accepted == 1 and batch.sessions.column("duration_sec").to_pylist() == [1.0]
    assert batch.rejected == [
        {"index": 1, "sessionId": "s1", "errors": ["property.durationSec: must be a number ≥ 0"]}
    ]


# --- validation ---


def test_every_problem_of_a_document_is_reported() -> None:
    doc = {
        "sessionId": "s1",
        "property": {
            "durationSec": -1,
            "totalGesture": 1.5,
            "hasVideo": "yes",
            "uploadedServerTime": "yesterday",
        },
        "user": {"uxcamuserid": "u1"},
        "device": {"platform": "windows", "width": "1080"},
        "location": {"latitude": 181, "longitude": -180.5},
        "bogus": 1,
    }
    batch = norm([minimal(sessionId="ok"), doc])
    assert batch.accepted == 1
    assert batch.rejected == [{
        "index": 1,
        "sessionId": "s1",
        "errors": [
            "bogus: unknown field; allowed: sessionId, property, user, device, location, screens, events, web",
            'property.uploadedServerTime: must be a date-time string like "2023-01-16T10:43:47Z" (UTC)',
            'property.hasVideo: must be a boolean (true/false, or 1/0) (got the string "yes"; send it unquoted)',
            "property.durationSec: must be a number ≥ 0",
            "property.totalGesture: must be an integer ≥ 0",
            'device.width: must be an integer (got the string "1080"; send it unquoted)',
            'device.platform: must be "android" or "ios" (or 1 for Android, 2 for iOS)',
            "location.longitude: must be a number from -180 to 180",
            "location.latitude: must be a number from -180 to 180",
        ],
    }]  # fmt: skip


@pytest.mark.parametrize(
    ("sid", "message"),
    [
        (None, "sessionId: required; 1-64 characters of A-Z a-z 0-9 _ . : -"),
        ("", "sessionId: must be 1-64 characters of A-Z a-z 0-9 _ . : -"),
        ("a" * 65, "sessionId: must be 1-64 characters of A-Z a-z 0-9 _ . : -"),
        ("has space", "sessionId: must be 1-64 characters of A-Z a-z 0-9 _ . : -"),
        ("é", "sessionId: must be 1-64 characters of A-Z a-z 0-9 _ . : -"),
        (["x"], "sessionId: must be a string of 1-64 characters of A-Z a-z 0-9 _ . : -"),
        (True, "sessionId: must be a string of 1-64 characters of A-Z a-z 0-9 _ . : -"),
    ],
)
def test_session_id_rules(sid: Any, message: str) -> None:
    doc = minimal()
    if sid is None:
        del doc["sessionId"]
    else:
        doc["sessionId"] = sid
    assert errors_of(doc) == [message]


def test_session_id_charset_and_numbers() -> None:
    assert one_row(minimal(sessionId="A-z_0.9:x"))["session_id"] == "A-z_0.9:x"
    assert one_row(minimal(sessionId="a" * 64))["session_id"] == "a" * 64
    assert one_row(minimal(sessionId=12345))["session_id"] == "12345"


def test_rejected_entry_reports_index_and_session_id() -> None:
    batch = norm(
        [
            minimal(),
            "not an object",
            {"sessionId": 7, "user": {}},
            {"sessionId": ["x"], "user": {"uxcamuserid": "u"}},
        ]
    )
    assert [r["index"] for r in batch.rejected] == [1, 2, 3]
    assert [r["sessionId"] for r in batch.rejected] == [None, "7", None]
    assert batch.rejected[0]["errors"] == ["document: must be a JSON object (one session document)"]
    assert norm([[minimal()]]).rejected[0]["errors"] == [
        "document: must be a JSON object (one session document), got an array; NDJSON holds one document per line"
    ]
    assert batch.rejected[1]["errors"] == [
        "user: needs user.uxcamuserid, user.kUXCam_UserIdentity or device.deviceId"
    ]


@pytest.mark.parametrize("section", ["property", "user", "device", "location", "web"])
@pytest.mark.parametrize("value", [[1], "x", 3, True])
def test_nested_objects_must_be_objects(section: str, value: Any) -> None:
    doc = minimal(**{section: value})
    if section == "user":
        doc["device"] = {"deviceId": "d1"}
    assert errors_of(doc) == [f"{section}: must be an object"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("offlineRecorded", 2, "property.offlineRecorded: must be a boolean (true/false, or 1/0)"),
        ("isCrashed", "true",
         'property.isCrashed: must be a boolean (true/false, or 1/0) (got the string "true"; send it unquoted)'),
        ("durationSec", "55", 'property.durationSec: must be a number ≥ 0 (got the string "55"; send it unquoted)'),
        ("durationSec", "x" * 50, f'property.durationSec: must be a number ≥ 0 (got the string "{"x" * 40}…"; send it unquoted)'),
        ("durationSec", True, "property.durationSec: must be a number ≥ 0"),
        ("totalScreen", -1, "property.totalScreen: must be an integer ≥ 0"),
        ("uniqueScreensCount", "3",
         'property.uniqueScreensCount: must be an integer ≥ 0 (got the string "3"; send it unquoted)'),
        ("rageGestureCount", 2**63, "property.rageGestureCount: must be at most 1,000,000,000"),
        ("rageGestureCount", 10**9 + 1, "property.rageGestureCount: must be at most 1,000,000,000"),
        ("durationSec", 1e9 + 1, "property.durationSec: must be at most 1,000,000,000"),
        ("responsiveGestureCount", False, "property.responsiveGestureCount: must be an integer ≥ 0"),
        ("unresponsiveGestureCount", 1.25, "property.unresponsiveGestureCount: must be an integer ≥ 0"),
        ("networkType", {"a": 1}, "property.networkType: must be a string"),
        ("networkType", True, "property.networkType: must be a string"),
        (
            "deviceLocalDateTime",
            1673866000,
            'property.deviceLocalDateTime: must be a date-time string like "2023-01-16T10:43:47Z" (UTC)',
        ),
        (
            "verifiedServerTime",
            "2023-13-01T00:00:00Z",
            'property.verifiedServerTime: must be a date-time string like "2023-01-16T10:43:47Z" (UTC)',
        ),
    ],
)
def test_property_errors(field: str, value: Any, message: str) -> None:
    assert errors_of(minimal(property={field: value})) == [message]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("dpi", 1.5, "device.dpi: must be an integer"),
        ("height", "2340", 'device.height: must be an integer (got the string "2340"; send it unquoted)'),
        ("totalRamInKB", [1], "device.totalRamInKB: must be an integer"),
        ("isRooted", "no", 'device.isRooted: must be a boolean (true/false, or 1/0) (got the string "no"; send it unquoted)'),
        (
            "isNotificationEnabled",
            1.0,
            "device.isNotificationEnabled: must be a boolean (true/false, or 1/0)",
        ),
        ("model", ["x"], "device.model: must be a string"),
        ("platform", 3, 'device.platform: must be "android" or "ios" (or 1 for Android, 2 for iOS)'),
        ("platform", True, 'device.platform: must be "android" or "ios" (or 1 for Android, 2 for iOS)'),
    ],
)
def test_device_errors(field: str, value: Any, message: str) -> None:
    assert errors_of(minimal(device={field: value})) == [message]


def test_string_length_limit_everywhere() -> None:
    limits = Limits(max_string_length=5)
    long = "x" * 6
    doc = {
        "sessionId": "s1",
        "property": {"networkType": long, "custom": long},
        "user": {"uxcamuserid": "u1", "alias": long, "nick": long},
        "device": {"model": long},
        "location": {"city": long},
        "web": {"referer": long, "utm": {"src": long}},
        "screens": ["ok", long],
        "events": [{"name": long, "properties": {"p": long}}],
    }
    assert errors_of(doc, limits=limits) == [
        "property.networkType: must be at most 5 characters (got 6)",
        "property.custom: must be at most 5 characters (got 6)",
        "user.alias: must be at most 5 characters (got 6)",
        "user.nick: must be at most 5 characters (got 6)",
        "device.model: must be at most 5 characters (got 6)",
        "location.city: must be at most 5 characters (got 6)",
        "web.referer: must be at most 5 characters (got 6)",
        "web.utm.src: must be at most 5 characters (got 6)",
        "screens[1]: must be at most 5 characters (got 6)",
        "events[0].name: must be at most 5 characters (got 6)",
        "events[0].properties.p: must be at most 5 characters (got 6)",
    ]


def test_screens_errors() -> None:
    assert errors_of(minimal(screens="Home")) == ["screens: must be a list of screen names"]
    assert errors_of(minimal(screens=["Home", None, "", {"a": 1}])) == [
        "screens[1]: required; a non-empty string",
        "screens[2]: required; a non-empty string",
        "screens[3]: must be a string",
    ]


def test_errors_are_capped_per_document() -> None:
    errs = errors_of(minimal(events=[{"timeSec": 1}] * 60))
    assert len(errs) == 51 and errs[-1] == "... and 10 more errors"


@pytest.mark.parametrize(("lat", "lon"), [(90.0, 180.0), (-90, -180), (0, 0), (-149.1091, 61.1508), (180, 0), (-180.0, 0)])
def test_lat_lon_bounds_are_inclusive(lat: float, lon: float) -> None:
    # a latitude beyond ±90: the reference's sessions sometimes have latitude and longitude swapped
    row = one_row(minimal(location={"latitude": lat, "longitude": lon}))
    assert (row["latitude"], row["longitude"]) == (float(lat), float(lon))


@pytest.mark.parametrize(("lat", "lon"), [(180.01, 0), (-181, 0), (0, 180.1), (0, -181), ("1", 0)])
def test_lat_lon_out_of_range(lat: Any, lon: Any) -> None:
    errs = errors_of(minimal(location={"latitude": lat, "longitude": lon}))
    assert len(errs) == 1 and errs[0].startswith(
        (
            "location.latitude: must be a number from -180 to 180",
            "location.longitude: must be a number from -180 to 180",
        )
    )


# --- type leniency ---


def test_lenient_types() -> None:
    doc = minimal(
        property={
            "offlineRecorded": 1,
            "hasVideo": 0,
            "isCrashed": True,
            "durationSec": 3,
            "totalGesture": 4.0,
        },
        device={"appVersion": 1.5, "sdkVersion": 3, "height": 2340.0, "isRooted": 0, "deviceId": 12345},
    )
    row = one_row(doc)
    assert (row["offline_recorded"], row["has_video"], row["is_crashed"]) == (True, False, True)
    assert row["duration_sec"] == 3.0 and row["total_gesture"] == 4
    assert (row["app_version"], row["sdk_version"], row["height"]) == ("1.5", "3", 2340)
    assert row["is_rooted"] is False and row["device_id"] == "12345"


def test_nulls_mean_absent() -> None:
    doc = minimal(property=None, device=None, location=None, web=None, screens=None, events=None)
    doc["property"] = {"durationSec": None, "hasVideo": None, "uploadedServerTime": None}
    row = one_row(doc)
    assert row["duration_sec"] is None and row["has_video"] is False and row["uploaded_at"] == NOW
    assert row["is_web"] is False and row["screens"] == [] and row["total_screen"] is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-01-16T10:43:47Z", datetime(2023, 1, 16, 10, 43, 47)),
        ("2023-01-16 10:43:47", datetime(2023, 1, 16, 10, 43, 47)),
        ("2023-01-16T10:43:47.999Z", datetime(2023, 1, 16, 10, 43, 47)),
        ("2023-01-16T10:43:47.123456+00:00", datetime(2023, 1, 16, 10, 43, 47)),
        ("2023-01-16T12:43:47+02:00", datetime(2023, 1, 16, 10, 43, 47)),
        ("2023-01-16T05:43:47.5-05:00", datetime(2023, 1, 16, 10, 43, 47)),
    ],
)
def test_datetime_formats(text: str, expected: datetime) -> None:
    row = one_row(
        minimal(
            property={"uploadedServerTime": text, "verifiedServerTime": text, "deviceLocalDateTime": text}
        )
    )
    assert row["uploaded_at"] == row["verified_at"] == row["device_local_at"] == row["started_at"] == expected


def test_datetime_objects_from_parquet() -> None:
    aware = datetime(2023, 1, 16, 10, 43, 47, 500, tzinfo=UTC)
    row = one_row(
        minimal(property={"uploadedServerTime": aware, "deviceLocalDateTime": datetime(2023, 1, 16, 9)})
    )
    assert row["uploaded_at"] == datetime(2023, 1, 16, 10, 43, 47)
    assert row["started_at"] == datetime(2023, 1, 16, 9)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("android", "android"), ("Android", "android"), ("ANDROID", "android"), (1, "android"), ("1", "android"),
     ("ios", "ios"), ("iOS", "ios"), ("IOS", "ios"), (2, "ios"), ("2", "ios"), (None, None)],
)  # fmt: skip
def test_platform_aliases(value: Any, expected: str | None) -> None:
    assert one_row(minimal(device={"platform": value}))["platform"] == expected


# --- user ---


def test_user_props_keep_json_types_and_order_and_map_values_are_text() -> None:
    user = {"uxcamuserid": "u1", "z": "last?", "gender": "male", "alias": "Al", "age": 31, "vip": True,
            "ltv": 12.5, "big": 1e20, "tags": ["a", 1], "obj": {"k": None}, "gone": None, "kUXCam_UserIdentity": "U#1"}  # fmt: skip
    row = one_row(minimal(user=user))
    assert (
        row["user_props"]
        == '{"z":"last?","gender":"male","age":31,"vip":true,"ltv":12.5,"big":1e+20,"tags":["a",1],"obj":{"k":null}}'
    )
    assert list(orjson.loads(row["user_props"])) == ["z", "gender", "age", "vip", "ltv", "big", "tags", "obj"]
    assert row["uprops"] == [
        ("z", "last?"), ("gender", "male"), ("age", "31"), ("vip", "true"), ("ltv", "12.5"),
        ("big", "1e+20"), ("tags", '["a",1]'), ("obj", '{"k":null}'),
    ]  # fmt: skip
    assert (row["user_alias"], row["user_identity"]) == ("Al", "U#1")


def test_no_custom_props_is_null() -> None:
    row = one_row(minimal(user={"uxcamuserid": "u1", "alias": "A", "kUXCam_UserIdentity": "i", "x": None}))
    assert row["user_props"] is None and row["uprops"] is None


def test_user_id_derived_from_identity_then_device() -> None:
    by_identity = one_row(minimal(user={"kUXCam_UserIdentity": "U#5066"}, device={"deviceId": "dev1"}))
    expected = hashlib.sha1(f"{APP}\x00identity\x00U#5066".encode()).hexdigest()[:24]
    assert by_identity["uxcamuserid"] == expected
    by_device = one_row(minimal(user={}, device={"deviceId": "dev1"}))
    assert by_device["uxcamuserid"] == hashlib.sha1(f"{APP}\x00device\x00dev1".encode()).hexdigest()[:24]
    assert by_device["user_identity"] is None
    # explicit id wins; empty strings count as absent
    assert one_row(minimal(user={"uxcamuserid": "u9", "kUXCam_UserIdentity": "x"}))["uxcamuserid"] == "u9"
    assert (
        one_row(minimal(user={"uxcamuserid": "", "kUXCam_UserIdentity": "U#5066"}))["uxcamuserid"] == expected
    )


def test_derived_user_id_is_stable_across_batches_and_per_app() -> None:
    doc = minimal(user={"kUXCam_UserIdentity": "U#1"})
    a = norm([doc]).sessions.column("uxcamuserid").to_pylist()
    b = norm([copy.deepcopy(doc)], now=NOW + timedelta(days=3)).sessions.column("uxcamuserid").to_pylist()
    other_app = (
        normalise_batch("0" * 24, [doc], now=NOW, limits=LIMITS).sessions.column("uxcamuserid").to_pylist()
    )
    assert a == b and a != other_app
    assert len(a[0]) == 24 and all(c in "0123456789abcdef" for c in a[0])


def test_missing_identity() -> None:
    assert errors_of({"sessionId": "s1"}) == [
        "user: needs user.uxcamuserid, user.kUXCam_UserIdentity or device.deviceId"
    ]
    assert errors_of({"sessionId": "s1", "user": {"uxcamuserid": ""}, "device": {"deviceId": ""}}) == [
        "user: needs user.uxcamuserid, user.kUXCam_UserIdentity or device.deviceId"
    ]
    # an identity that was sent but is invalid is reported once, for what it is
    assert errors_of({"sessionId": "s1", "user": {"uxcamuserid": {"a": 1}}}) == [
        "user.uxcamuserid: must be a string"
    ]


def test_alias_is_derived_stably() -> None:
    row = one_row(minimal())
    assert row["user_alias"] == derive_alias("u1")
    first, last = row["user_alias"].split(" ")
    assert first in FIRST_NAMES and last in LAST_NAMES
    assert one_row(minimal(sessionId="s2"))["user_alias"] == row["user_alias"]
    assert len({derive_alias(f"user{i}") for i in range(200)}) > 150  # spread over many names


def test_derive_user_id_function() -> None:
    assert derive_user_id("app", "device", "d") == hashlib.sha1(b"app\x00device\x00d").hexdigest()[:24]
    assert derive_user_id("app", "device", "d") != derive_user_id("app", "identity", "d")


# --- gestures and screens ---


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, (None, None, None, None)),
        ({"responsiveGestureCount": 5, "unresponsiveGestureCount": 2}, (7, 5, 2, 0)),
        ({"responsiveGestureCount": 5}, (5, 5, 0, 0)),
        ({"unresponsiveGestureCount": 2}, (2, 0, 2, 0)),
        ({"totalGesture": 10, "unresponsiveGestureCount": 3}, (10, 7, 3, 0)),
        ({"totalGesture": 10, "responsiveGestureCount": 4}, (10, 4, 6, 0)),
        ({"totalGesture": 2, "unresponsiveGestureCount": 3}, (2, None, 3, 0)),
        ({"totalGesture": 10}, (10, None, None, 0)),
        (
            {
                "totalGesture": 10,
                "rageGestureCount": 2,
                "responsiveGestureCount": 1,
                "unresponsiveGestureCount": 1,
            },
            (10, 1, 1, 2),
        ),
        ({"rageGestureCount": 2}, (None, None, None, 2)),
    ],
)
def test_gesture_derivation(given: dict[str, int], expected: tuple[Any, ...]) -> None:
    row = one_row(minimal(property=given))
    got = (
        row["total_gesture"],
        row["responsive_gesture_count"],
        row["unresponsive_gesture_count"],
        row["rage_gesture_count"],
    )
    assert got == expected
    # idempotent: the stored counts sent again (as an export carries them) are stored the same
    names = ("totalGesture", "responsiveGestureCount", "unresponsiveGestureCount", "rageGestureCount")
    again = one_row(minimal(property={n: v for n, v in zip(names, got, strict=True) if v is not None}))
    cols = ("total_gesture", "responsive_gesture_count", "unresponsive_gesture_count", "rage_gesture_count")
    assert tuple(again[c] for c in cols) == got


def test_screen_counts() -> None:
    row = one_row(minimal(screens=["A", "B", "A", "C", "B"]))
    assert row["screens"] == ["A", "B", "A", "C", "B"] and row["unique_screens"] == ["A", "B", "C"]
    assert (row["total_screen"], row["unique_screens_count"]) == (5, 3)
    row = one_row(minimal(screens=["A", "A"], property={"totalScreen": 9, "uniqueScreensCount": 4}))
    assert (row["total_screen"], row["unique_screens_count"], row["unique_screens"]) == (9, 4, ["A"])
    row = one_row(minimal(screens=[]))
    assert (row["total_screen"], row["unique_screens_count"]) == (0, 0)
    row = one_row(minimal(property={"totalScreen": 3}))
    assert (row["total_screen"], row["unique_screens_count"], row["screens"]) == (3, None, [])


def test_exported_unique_screens_used_when_screens_absent() -> None:
    row = one_row(minimal(property={"uniqueScreens": ["A", "B"]}))
    assert row["unique_screens"] == ["A", "B"] and row["unique_screens_count"] == 2 and row["extra"] is None
    # an export's empty list: the session's count is what its uniqueScreensCount says (null: unknown)
    row = one_row(minimal(property={"uniqueScreens": [], "uniqueScreensCount": None, "totalScreen": None}))
    assert (row["unique_screens"], row["unique_screens_count"], row["total_screen"]) == ([], None, None)
    row = one_row(minimal(property={"uniqueScreens": [], "uniqueScreensCount": 0, "totalScreen": 0}))
    assert (row["unique_screens"], row["unique_screens_count"], row["total_screen"]) == ([], 0, 0)


# --- device class ---


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ({"platform": "android", "width": 480, "height": 800}, "Android Small"),
        ({"platform": "android", "width": 720, "height": 1280}, "Android Medium"),
        ({"platform": "android", "width": 2340, "height": 1080}, "Android Large"),
        ({"platform": "android", "width": 1440, "height": 3040}, "Android XLarge"),
        ({"platform": "android", "width": 1600, "height": 2560}, "Android Tablet"),
        ({"platform": "android", "width": 800, "height": 1280, "type": "Tablet"}, "Android Tablet"),
        ({"platform": "android"}, None),
        ({"platform": "ios", "width": 640, "height": 1136}, "iPhone Small"),
        ({"platform": "ios", "width": 828, "height": 1792}, "iPhone Medium"),
        ({"platform": "ios", "width": 1170, "height": 2532}, "iPhone Large"),
        ({"platform": "ios", "model": "iPad8,1"}, "iPad"),
        ({"platform": "ios", "type": "tablet", "width": 640, "height": 1136}, "iPad"),
        ({"width": 640, "height": 1136}, None),
        ({"platform": "android", "width": -1, "height": 1136}, None),
        ({"platform": "android", "class": "Custom", "width": 640, "height": 1136}, "Custom"),
    ],
)
def test_device_class_derivation(device: dict[str, Any], expected: str | None) -> None:
    assert one_row(minimal(device=device))["device_class"] == expected


@pytest.mark.parametrize(
    ("web", "device", "expected"),
    [
        ({"deviceType": "Desktop"}, {}, "Web Desktop"),
        ({"deviceType": "tablet"}, {}, "Web Tablet"),
        ({"deviceType": "Mobile"}, {}, "Web Phone"),
        ({}, {"type": "Phone"}, "Web Phone"),
        ({}, {}, None),
        ({"deviceType": "console"}, {}, None),
    ],
)
def test_web_device_class(web: dict[str, Any], device: dict[str, Any], expected: str | None) -> None:
    assert one_row(minimal(web=web, device=device))["device_class"] == expected


def test_derive_device_class_function_directly() -> None:
    assert derive_device_class("android", 1080, 1920, None, None, False) == "Android Large"
    assert derive_device_class(None, 1080, 1920, None, None, False) is None


# --- web ---


def test_web_session() -> None:
    web = {"browserName": "Chrome", "browserVersion": 118, "osName": "Windows", "deviceType": "Desktop",
           "referer": "https://WWW.Google.com:443/search?q=x", "utm": {"utm_source": "google", "utm_medium": "cpc", "n": None},
           "custom": {"a": 1}}  # fmt: skip
    row = one_row(minimal(web=web))
    assert row["is_web"] is True
    assert (row["browser_name"], row["browser_version"]) == ("Chrome", "118")
    assert (row["os_name"], row["device_type"], row["device_class"]) == ("Windows", "Desktop", "Web Desktop")
    assert row["referer"] == "https://WWW.Google.com:443/search?q=x" and row["referer_domain"] == "google.com"
    assert row["utm"] == '{"utm_source":"google","utm_medium":"cpc"}'
    assert row["utm_map"] == [("utm_source", "google"), ("utm_medium", "cpc")]
    assert orjson.loads(row["web_extra"]) == web


def test_device_fields_win_over_web_fields() -> None:
    row = one_row(
        minimal(
            web={"osName": "Windows", "deviceType": "Desktop"}, device={"osName": "Android", "type": "Phone"}
        )
    )
    assert (row["os_name"], row["device_type"]) == ("Android", "Phone")


def test_empty_web_object_is_web() -> None:
    row = one_row(minimal(web={}))
    assert row["is_web"] is True and row["web_extra"] == "{}" and row["utm"] is None


def test_web_utm_errors() -> None:
    assert errors_of(minimal(web={"utm": "x"})) == ["web.utm: must be an object of text values"]
    assert errors_of(minimal(web={"utm": {"a": [1]}})) == ["web.utm.a: must be a string"]


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.google.com/search", "google.com"),
        ("http://News.Ycombinator.com", "news.ycombinator.com"),
        ("https://user:pw@example.org:8080/x", "example.org"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        ("google.com", None),
        ("not a url", None),
        ("http://[::1", None),
    ],
)
def test_referer_domain(url: str, domain: str | None) -> None:
    assert referer_domain(url) == domain


# --- unknown keys ---


def test_unknown_nested_keys_go_to_extra() -> None:
    doc = minimal(
        property={"durationSec": 1.0, "appState": "fg", "nothing": None},
        device={"model": "X", "gpu": {"vendor": "arm"}},
        location={"region": "NY"},
    )
    row = one_row(doc)
    assert orjson.loads(row["extra"]) == {
        "property": {"appState": "fg"},
        "device": {"gpu": {"vendor": "arm"}},
        "location": {"region": "NY"},
    }
    assert row["duration_sec"] == 1.0 and row["model"] == "X"


def test_exported_output_fields_are_ignored() -> None:
    row = one_row(minimal(url="https://x/app/1", video=None, sessionNumber=3))
    assert row["session_number"] is None and row["extra"] is None


def test_unknown_top_level_keys_are_errors() -> None:
    assert errors_of(minimal(foo=1, bar=2)) == [
        "foo: unknown field; allowed: sessionId, property, user, device, location, screens, events, web",
        "bar: unknown field; allowed: sessionId, property, user, device, location, screens, events, web",
    ]


def test_a_user_or_event_row_is_named_once_not_field_by_field() -> None:
    captures = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "uxcam-v2-captures.json").read_text())
    user_rows = [
        row for c in captures if "/v2/user?" in c["request_url"] and c["status"] == 200 for row in c["body"]["data"]
    ]
    assert user_rows, "the captures hold a List Users page"
    event_row = {"eventId": "e1", "eventName": "Buy", "eventScreen": "Cart", "url": "u", "eventProperty": {}}
    for row, resource in [(user_rows[0], "user"), (event_row, "event")]:
        assert errors_of(row) == [
            f"document: a {resource} row (of /v2/{resource} or `export --resource {resource}`), not a session "
            "document; import takes sessions, such as an export of /v2/session (`export --resource session`)"
        ]
    # a session document that merely has one of those keys is told about that key alone
    assert errors_of(minimal(usage={})) == [
        "usage: unknown field; allowed: sessionId, property, user, device, location, screens, events, web"
    ]


# --- misc ---


def test_limits_from_settings() -> None:
    class S:
        max_events_per_session = 1
        max_screens_per_session = 2
        max_string_length = 3
        max_custom_properties = 4

    assert Limits.from_settings(S()) == Limits(1, 2, 3, 4)


def test_input_documents_are_not_mutated() -> None:
    docs = [make_doc(i) for i in range(3)] + [
        minimal(web={"utm": {"a": None}}, events=[{"name": "e", "properties": {"x": None, "y": 1}}])
    ]
    before = copy.deepcopy(docs)
    norm(docs)
    assert docs == before


def test_realistic_batch_round_trips_through_arrow() -> None:
    docs = [make_doc(i) for i in range(200)]
    batch = norm(docs)
    assert batch.accepted == 200 and batch.sessions.num_rows == 200 and batch.events.num_rows == 2000
    assert pa.Table.from_pylist(batch.sessions.to_pylist(), schema=BATCH_SCHEMA).equals(batch.sessions)
    assert batch.sessions.column("uxcamuserid").null_count == 0
    assert batch.sessions.column("user_alias").null_count == 0


def test_documents_read_back_from_arrow_structs() -> None:
    # A Parquet import gives every struct field on every row, null where a document lacked it.
    docs = [make_doc(0), minimal(sessionId="s2", web={"referer": "https://a.io/x"})]
    via_arrow = pa.RecordBatch.from_struct_array(pa.array(docs)).to_pylist()  # union of keys, as a file has
    assert via_arrow[1]["device"] is None and via_arrow[0]["web"] is None
    assert via_arrow[1]["user"]["gender"] is None
    direct, read_back = norm(docs).sessions, norm(via_arrow).sessions
    assert read_back.equals(direct)


def test_a_value_no_check_foresaw_rejects_only_its_document() -> None:
    from decimal import Decimal

    batch = norm([minimal(user={"uxcamuserid": "u", "odd": [Decimal("1.5")]}), minimal(sessionId="s2")])
    assert batch.accepted_ids == ["s2"]
    assert batch.rejected[0]["index"] == 0
    assert batch.rejected[0]["errors"][0].startswith("document: could not be read (")


def test_long_property_texts_made_of_short_strings_are_fine() -> None:
    limits = Limits(max_string_length=8)
    user = {"uxcamuserid": "u1", "a": "12345678", "b": "12345678", "c": 1}
    doc = minimal(user=user, events=[{"name": "e", "properties": {"x": "12345678", "y": "12345678"}}])
    batch = norm([doc], limits=limits)
    assert batch.rejected == []
    assert batch.sessions.column("uprops").to_pylist()[0] == [
        ("a", "12345678"),
        ("b", "12345678"),
        ("c", "1"),
    ]
    assert batch.events.column("pmap").to_pylist()[0] == [("x", "12345678"), ("y", "12345678")]


def test_null_only_event_properties_and_web_nulls() -> None:
    doc = minimal(
        events=[{"name": "e", "properties": {"x": None}}], web={"browserName": "Firefox", "referer": None}
    )
    batch = norm([doc])
    assert batch.events.column("props").to_pylist() == [None]
    assert batch.events.column("pmap").to_pylist() == [None]
    assert batch.sessions.column("web_extra").to_pylist() == ['{"browserName":"Firefox"}']
