"""Stored rows -> the response documents of the reference (field names, order and JSON types)."""

from __future__ import annotations

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
