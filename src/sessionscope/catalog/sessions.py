"""The session attribute catalogue (reference: seed-sessions.md). Adding an attribute is one line."""

from __future__ import annotations

from .types import (
    BOOL,
    BUCKET,
    COUNT,
    DATETIME,
    EVENT,
    FLOAT,
    INTEGER,
    JSON,
    LIST,
    STRING,
    Attribute,
    Resource,
)

PLATFORM_ALIASES = {"1": "android", "android": "android", "2": "ios", "ios": "ios"}


def _s(name: str, column: str, description: str, **kw) -> Attribute:
    return Attribute(name, STRING, description, column, groupable=True, **kw)


def _n(name: str, kind: str, column: str, description: str) -> Attribute:
    return Attribute(name, kind, description, column, aggregatable=True)


def _b(name: str, column: str, description: str) -> Attribute:
    return Attribute(name, BOOL, description, column, groupable=True, aggregatable=True)


SESSION_ATTRIBUTES: list[Attribute] = [
    Attribute("date_range", DATETIME, "Time the session was uploaded (the query window)", "uploaded_at"),
    _s("app_version", "app_version", "App version recorded in the session"),
    _s("device_class", "device_class", "Device class from its size (e.g. Android Large)"),
    _s("device_id", "device_id", "Device id"),
    _s("device_manufacturer", "manufacturer", "Device manufacturer (e.g. Samsung)"),
    _s("device_model", "model", "Device model"),
    _s("device_os_version", "os_version", "Device operating system version"),
    _s(
        "device_platform",
        "platform",
        "Platform: 1 or android, 2 or ios",
        aliases=PLATFORM_ALIASES,
        only_operators=("equal", "not_equal", "in", "not_in"),
    ),
    Attribute("event_name", EVENT, "Events that occurred in the session", "event_names", event_column="name"),
    Attribute(
        "event_custom_property",
        JSON,
        "Properties of events in the session (needs property_name)",
        "pmap",
        event_column="pmap",
    ),
    _s("sdk_version", "sdk_version", "SDK version on the device"),
    _b("session_crashed", "is_crashed", "Whether the session crashed"),
    _n("session_duration", FLOAT, "duration_sec", "Session length in seconds"),
    _n("session_gesture_count", INTEGER, "total_gesture", "Gestures in the session"),
    _b("session_has_video", "has_video", "Whether the session has a replay video"),
    _n("session_number_of_user", INTEGER, "session_number", "The session's rank among its user's sessions"),
    _n("session_rage_gesture_count", INTEGER, "rage_gesture_count", "Rage gestures in the session"),
    _n("session_responsive_gesture_count", INTEGER, "responsive_gesture_count", "Responsive gestures"),
    _n("session_unresponsive_gesture_count", INTEGER, "unresponsive_gesture_count", "Unresponsive gestures"),
    _n("session_screen_count", INTEGER, "total_screen", "Screens visited in the session"),
    Attribute("session_screen_list", LIST, "Screens visited in the session", "screens"),
    _n("session_unique_screen_count", INTEGER, "unique_screens_count", "Distinct screens visited"),
    Attribute("session_uploadedon_day", BUCKET, "Sessions by upload day", "uploaded_at", groupable=True, bucket="day"),
    Attribute("session_uploaded_week", BUCKET, "Sessions by upload week (Mon-Sun)", "uploaded_at", groupable=True, bucket="week"),
    Attribute("session_uploaded_month", BUCKET, "Sessions by upload month", "uploaded_at", groupable=True, bucket="month"),
    _s("session_id", "session_id", "Session id"),
    _s("device_city", "city", "City from the device's IP address"),
    _s("device_country", "device_country", "Country from the device's IP address"),
    _s("uxcamuserid", "uxcamuserid", "User id"),
    _s("user_name", "user_alias", "The user's alias"),
    Attribute(
        "user_custom_property",
        JSON,
        "Custom user properties (needs property_name; alias and kUXCam_UserIdentity included)",
        "uprops",
        groupable=True,
        aggregatable=True,
        property_columns={"alias": "user_alias", "kUXCam_UserIdentity": "user_identity"},
    ),
    # Web only
    Attribute("user_first_utm", JSON, "UTM of the user's first session (needs property_name)", "first_utm_map", groupable=True),
    _s("user_first_referer", "first_referer", "Referrer URL of the user's first session"),
    _s("user_first_screen_name", "first_screen_name", "First page the user landed on"),
    _s("user_first_referer_domain", "first_referer_domain", "Referring domain of the user's first session"),
    _s("browser_name", "browser_name", "Browser name"),
    _s("browser_version", "browser_version", "Browser version"),
    _s("referer", "referer", "Referrer URL of the session"),
    _s("referer_domain", "referer_domain", "Referring domain of the session"),
    Attribute("utm", JSON, "UTM parameters of the session's landing page (needs property_name)", "utm_map", groupable=True),
    _s("device_os_name", "os_name", "Device OS name"),
    _s("device_type", "device_type", "Device type"),
    # Counts: metrics only
    Attribute("session_count", COUNT, "Number of sessions"),
    Attribute("session_unique_user_count", COUNT, "Distinct users"),
    Attribute("session_new_users_count", COUNT, "Users whose first session is among the matching sessions"),
]

# the web SDK's attributes, which every resource takes over from sessions unchanged
WEB_ONLY = (
    "user_first_utm", "user_first_referer", "user_first_screen_name", "user_first_referer_domain", "browser_name",
    "browser_version", "referer", "referer_domain", "utm", "device_os_name", "device_type",
)
SESSION_BY_NAME = {a.name: a for a in SESSION_ATTRIBUTES}


def shared(*names: str) -> list[Attribute]:
    """Session attributes that another resource takes over unchanged."""
    return [SESSION_BY_NAME[n] for n in names]


SESSIONS = Resource(
    name="session",
    table="sessions",
    time_column="uploaded_at",
    attributes={a.name: a for a in SESSION_ATTRIBUTES},
)
