"""Stored rows -> the response documents of the reference (field names, order and JSON types)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson

# (output key, column) per section, in the reference's order.
PROPERTY = [
    ("uploadedServerTime", "uploaded_at"),
    ("deviceLocalDateTime", "device_local_at"),
    ("verifiedServerTime", "verified_at"),
    ("offlineRecorded", "offline_recorded"),
    ("hasVideo", "has_video"),
    ("isCrashed", "is_crashed"),
    ("durationSec", "duration_sec"),
    ("totalGesture", "total_gesture"),
    ("totalScreen", "total_screen"),
    ("uniqueScreensCount", "unique_screens_count"),
    ("rageGestureCount", "rage_gesture_count"),
    ("networkType", "network_type"),
    ("responsiveGestureCount", "responsive_gesture_count"),
    ("unresponsiveGestureCount", "unresponsive_gesture_count"),
    ("uniqueScreens", "unique_screens"),
]
DEVICE = [
    ("carrierCode", "carrier_code"),
    ("carrierName", "carrier_name"),
    ("osName", "os_name"),
    ("appVersion", "app_version"),
    ("sdkVersion", "sdk_version"),
    ("osVersion", "os_version"),
    ("language", "device_language"),
    ("country", "device_country"),
    ("totalStorageInKB", "total_storage_kb"),
    ("totalRamInKB", "total_ram_kb"),
    ("freeRamInKb", "free_ram_kb"),
    ("dpi", "dpi"),
    ("height", "height"),
    ("width", "width"),
    ("type", "device_type"),
    ("class", "device_class"),
    ("producer", "manufacturer"),
    ("model", "model"),
    ("deviceId", "device_id"),
    ("isNotificationEnabled", "notification_enabled"),
    ("isRooted", "is_rooted"),
    ("platform", "platform"),
]
LOCATION = [("countryCode", "country_code"), ("city", "city"), ("longitude", "longitude"), ("latitude", "latitude")]
OTHER = [
    "session_id",
    "session_number",
    "user_identity",
    "user_props",
    "user_alias",
    "uxcamuserid",
    "is_web",
    "web_extra",
    "extra",
]

SESSION_COLUMNS: tuple[str, ...] = tuple(
    OTHER + [c for _, c in PROPERTY] + [c for _, c in DEVICE] + [c for _, c in LOCATION]
)
_INDEX = {c: i for i, c in enumerate(SESSION_COLUMNS)}
_TIME_COLUMNS = {"uploaded_at", "device_local_at", "verified_at"}


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def _section(row: tuple[Any, ...], fields: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, col in fields:
        value = row[_INDEX[col]]
        out[key] = iso(value) if col in _TIME_COLUMNS else value
    return out


def session_doc(row: tuple[Any, ...], *, url: str, video: str | None) -> dict[str, Any]:
    """One row selected with SESSION_COLUMNS -> the list endpoint's SESSION object."""
    user: dict[str, Any] = {}
    if row[_INDEX["user_identity"]] is not None:
        user["kUXCam_UserIdentity"] = row[_INDEX["user_identity"]]
    props = row[_INDEX["user_props"]]
    if props:
        user.update(orjson.loads(props))
    user["alias"] = row[_INDEX["user_alias"]]
    user["uxcamuserid"] = row[_INDEX["uxcamuserid"]]
    doc: dict[str, Any] = {
        "sessionId": row[_INDEX["session_id"]],
        "video": video,
        "sessionNumber": row[_INDEX["session_number"]],
        "url": url,
        "property": _section(row, PROPERTY),
        "user": user,
        "device": _section(row, DEVICE),
        "location": _section(row, LOCATION),
    }
    extra = row[_INDEX["extra"]]
    if extra:
        for section, values in orjson.loads(extra).items():
            if isinstance(doc.get(section), dict):
                for key, value in values.items():
                    doc[section].setdefault(key, value)
    if row[_INDEX["is_web"]]:
        web = row[_INDEX["web_extra"]]
        doc["web"] = orjson.loads(web) if web else {}
    return doc


def column(row: tuple[Any, ...], name: str) -> Any:
    return row[_INDEX[name]]


# -- users (reference: the List Users rows of the captures) --------------------------------------------------

USER_USAGE = [
    ("registeredOn", "user_first_seen_at"),
    ("lastseenOn", "user_last_seen_at"),
    ("totalSession", "user_session_count"),
    ("totalSessionTime", "user_session_duration"),
    ("totalGesture", "user_gesture_count"),
    ("screenCount", "user_session_screen_count"),
    ("eventCount", "user_event_count"),
    ("rageGestureCount", "user_rage_gesture_count"),
    ("responsiveGestureCount", "user_responsive_gesture_count"),
    ("unresponsiveGestureCount", "user_unresponsive_gesture_count"),
]
USER_LOCATION = [("countryCode", "country_code"), ("city", "city"), ("country", "device_country")]
USER_DEVICE = [
    ("model", "model"),
    ("deviceId", "device_id"),
    ("platform", "platform"),
    ("appVersion", "app_version"),
    ("osVersion", "os_version"),
]
USER_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(
        ["uxcamuserid", "user_identity", "user_props", "user_alias"]
        + [c for _, c in USER_USAGE + USER_LOCATION + USER_DEVICE]
    )
)
_USER_INDEX = {c: i for i, c in enumerate(USER_COLUMNS)}
_USER_TIMES = {"user_first_seen_at", "user_last_seen_at"}


def _fields(row: tuple[Any, ...], index: dict[str, int], fields: list[tuple[str, str]], times: set[str]) -> dict[str, Any]:
    return {key: iso(row[index[col]]) if col in times else row[index[col]] for key, col in fields}


def user_doc(row: tuple[Any, ...], *, url: str) -> dict[str, Any]:
    """One row selected with USER_COLUMNS (the user's latest matching session and totals) -> a List Users row.

    `property` is the alias, the custom properties, then `kUXCam_UserIdentity`, in the reference's order.
    """
    ix = _USER_INDEX
    identity = row[ix["user_identity"]]
    prop: dict[str, Any] = {"alias": row[ix["user_alias"]]}
    if row[ix["user_props"]]:
        prop.update(orjson.loads(row[ix["user_props"]]))
    if identity is not None:
        prop["kUXCam_UserIdentity"] = identity
    return {
        "uxcamUserId": row[ix["uxcamuserid"]],
        "userId": identity,
        "url": url,
        "property": prop,
        "usage": _fields(row, ix, USER_USAGE, _USER_TIMES),
        "location": _fields(row, ix, USER_LOCATION, _USER_TIMES),
        "device": _fields(row, ix, USER_DEVICE, _USER_TIMES),
    }


def user_column(row: tuple[Any, ...], name: str) -> Any:
    return row[_USER_INDEX[name]]


# -- events (reference: the List Events rows of the captures) ------------------------------------------------

EVENT_SESSION = [
    ("sessionId", "session_id"),
    ("hasVideo", "has_video"),
    ("isCrashed", "is_crashed"),
    ("durationSec", "duration_sec"),
    ("totalGesture", "total_gesture"),
    ("totalScreen", "total_screen"),
    ("uniqueScreensCount", "unique_screens_count"),
    ("networkType", "network_type"),
    ("sessionNumber", "session_number"),
    ("country", "device_country"),
]
EVENT_DEVICE = [
    ("model", "model"),
    ("deviceId", "device_id"),
    ("platform", "platform"),
    ("appVersion", "app_version"),
    ("osVersion", "os_version"),
    ("producer", "manufacturer"),
    ("class", "device_class"),
]
EVENT_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(
        ["ev_seq", "ev_name", "ev_screen", "uploaded_at", "ev_time", "ev_props", "user_identity", "user_props"]
        + ["uxcamuserid"]
        + [c for _, c in EVENT_SESSION + EVENT_DEVICE]
    )
)
_EVENT_INDEX = {c: i for i, c in enumerate(EVENT_COLUMNS)}
# the reference writes an event's platform as a number: 1 Android, 2 iOS
PLATFORM_CODES = {"android": 1, "ios": 2}
_EVENT_NAMESPACE = uuid.UUID("6f1c1f0e-7f55-4d4e-9a53-5e55c0de0e57")


def event_id(appid: str, session_id: str, seq: int) -> str:
    """A stable, UUID-shaped id for an event: the same event always gets the same id."""
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{appid}\0{session_id}\0{seq}"))


def event_doc(row: tuple[Any, ...], *, appid: str, url: str) -> dict[str, Any]:
    """One row selected with EVENT_COLUMNS -> a List Events row. `eventDate` is the upload time of the event's
    session (as in the reference, where a session's events share it); `eventPropertyTime` its offset in
    seconds from the session's start."""
    ix = _EVENT_INDEX
    user: dict[str, Any] = {}
    if row[ix["user_identity"]] is not None:
        user["kUXCam_UserIdentity"] = row[ix["user_identity"]]
    if row[ix["user_props"]]:
        user.update(orjson.loads(row[ix["user_props"]]))
    user["uxcamuserid"] = row[ix["uxcamuserid"]]
    device = _fields(row, ix, EVENT_DEVICE, set())
    device["platform"] = PLATFORM_CODES.get(device["platform"])
    props = row[ix["ev_props"]]
    return {
        "eventId": event_id(appid, row[ix["session_id"]], row[ix["ev_seq"]]),
        "eventName": row[ix["ev_name"]],
        "eventScreen": row[ix["ev_screen"]],
        "eventDate": iso(row[ix["uploaded_at"]]),
        "eventPropertyTime": row[ix["ev_time"]],
        "url": url,
        "sessionProperty": _fields(row, ix, EVENT_SESSION, set()),
        "userProperty": user,
        "eventProperty": orjson.loads(props) if props else {},
        "device": device,
    }


def event_column(row: tuple[Any, ...], name: str) -> Any:
    return row[_EVENT_INDEX[name]]
