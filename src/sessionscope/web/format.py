"""How the dashboard writes numbers, durations, times and metric names."""

from __future__ import annotations

import json
import math
from typing import Any

METRIC_LABELS = {
    "session_count": "Sessions",
    "session_unique_user_count": "Users",
    "session_new_users_count": "New users",
    "avg_session_gesture_count": "Avg gestures",
    "avg_session_rage_gesture_count": "Avg rage gestures",
    "avg_session_responsive_gesture_count": "Avg responsive gestures",
    "avg_session_unresponsive_gesture_count": "Avg unresponsive gestures",
    "avg_session_duration": "Avg duration",
    "avg_session_unique_screen_count": "Avg unique screens",
}


def metric_label(key: str) -> str:
    return METRIC_LABELS.get(key, key.replace("_", " ").capitalize())


def plural(word: str, count: Any) -> str:
    """`word` for one of it, else its plural ("user", 2 -> "users"; "new user", 1 -> "new user")."""
    return word if count == 1 else word + "s"


def number(value: Any, digits: int = 2) -> str:
    """1234 -> "1,234"; 3.14159 -> "3.14"; None -> "—"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def duration(seconds: Any) -> str:
    """Seconds -> "42.5s", "3m 07s", "1h 02m"."""
    if seconds is None:
        return "—"
    s = float(seconds)
    if s < 60:
        return f"{s:.1f}s"
    whole = int(round(s))
    h, rest = divmod(whole, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}h {m:02d}m" if h else f"{m}m {sec:02d}s"


def offset(seconds: Any) -> str:
    """A time offset inside a session: "0:32.9"."""
    if seconds is None:
        return "—"
    s = max(0.0, float(seconds))
    m, sec = divmod(s, 60)
    return f"{int(m)}:{sec:04.1f}"


def metric(key: str, value: Any) -> str:
    if key == "avg_session_duration" or key.endswith("_session_duration"):
        return duration(value)
    return number(value)


def pct(value: Any) -> str:
    """A percentage change with its sign: "+12.5%", "−3%", "—" when there is nothing to compare to."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{abs(value):,.1f}%".replace(".0%", "%")


# Metrics where a fall is the good news (frustration and failure counts).
_LOWER_IS_BETTER = ("rage_gesture", "unresponsive_gesture", "crash")


def change_tone(key: str, value: Any) -> str:
    """The CSS class of a percentage change of metric `key`: good news green, bad news red, whichever way
    it moves (fewer rage gestures is good); "delta-none" when there is nothing to compare to."""
    if value is None:
        return "delta-none"
    if value == 0:
        return ""
    good = (value < 0) if any(part in key for part in _LOWER_IS_BETTER) else (value > 0)
    return "delta-good" if good else "delta-bad"


def timestamp(value: Any) -> str:
    """ "2023-01-19T11:23:12Z" -> "2023-01-19 11:23:12 UTC"."""
    if not value:
        return "—"
    text = str(value)
    return text.replace("T", " ").replace("Z", " UTC") if "T" in text else text


_FIELD_LABELS = {
    "uploadedServerTime": "Uploaded",
    "deviceLocalDateTime": "Device local time",
    "verifiedServerTime": "Verified",
    "durationSec": "Duration",
    "totalGesture": "Gestures",
    "totalScreen": "Screens",
    "uniqueScreensCount": "Unique screens",
    "rageGestureCount": "Rage gestures",
    "responsiveGestureCount": "Responsive gestures",
    "unresponsiveGestureCount": "Unresponsive gestures",
    "isCrashed": "Crashed",
    "hasVideo": "Replay video",
    "offlineRecorded": "Recorded offline",
    "producer": "Manufacturer",
    "totalStorageInKB": "Storage",
    "totalRamInKB": "RAM",
    "freeRamInKb": "Free RAM",
    "dpi": "DPI",
    "osName": "OS",
    "osVersion": "OS version",
    "sdkVersion": "SDK version",
    "isNotificationEnabled": "Notifications",
    "isRooted": "Rooted",
    "deviceId": "Device id",
    "uxcamuserid": "User id",
    "kUXCam_UserIdentity": "Identity",
    "countryCode": "Country code",
}


def field_label(key: str) -> str:
    """A document key as a label: the table above, else camelCase or snake_case split into words."""
    if key in _FIELD_LABELS:
        return _FIELD_LABELS[key]
    words, word = [], ""
    for ch in key.replace("_", " "):
        if ch.isupper() and word and not word[-1].isupper():
            words.append(word)
            word = ch
        else:
            word += ch
    words.append(word)
    text = " ".join(w.strip() for w in words if w.strip())
    return text[:1].upper() + text[1:].lower() if text else key


def kilobytes(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return number(value)
    for unit, size in (("TB", 1024**3), ("GB", 1024**2), ("MB", 1024)):
        if value >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value:,} KB"


def field(key: str, value: Any) -> str:
    """A document value as the session page shows it."""
    if value is None or value == "":
        return "—"
    if key == "durationSec":
        return duration(value)
    if key.endswith(("Time", "DateTime")) and isinstance(value, str):
        return timestamp(value)
    if key.lower().endswith("inkb"):
        return kilobytes(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "—"
    return str(value)


def as_sent(value: Any) -> str:
    """A custom property as the app sent it: numbers without thousands separators or rounding (an id such
    as 1234567 stays 1234567), booleans and lists and objects as JSON writes them; missing is "—"."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
