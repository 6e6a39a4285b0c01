"""The event attribute catalogue (reference: events.md). Adding an attribute is one line.

The base relation has one row per event, joined with its session's columns, so every session attribute
applies to an event as "the event's session has ...", and `event_name`, `event_screen_name` and
`event_custom_property` test the event itself.
"""

from __future__ import annotations

from dataclasses import replace

from .sessions import SESSION_BY_NAME as _SESSION
from .sessions import WEB_ONLY
from .sessions import shared as _shared
from .types import BUCKET, COUNT, JSON, STRING, Attribute, Resource


def _of_session(*names: str) -> list[Attribute]:
    # dashboard links mark conditions on the event's session with "tb": "session", as the reference does
    return [replace(_SESSION[n], link_table="session") for n in names]


EVENT_ATTRIBUTES: list[Attribute] = [
    replace(_SESSION["date_range"], description="Time the event's session was uploaded (the query window)"),
    *_shared(
        "app_version",
        "device_class",
        "device_id",
        "device_manufacturer",
        "device_model",
        "device_os_version",
        "device_platform",
        "sdk_version",
    ),
    *_of_session(
        "session_crashed",
        "session_duration",
        "session_gesture_count",
        "session_has_video",
        "session_number_of_user",
        "session_rage_gesture_count",
        "session_responsive_gesture_count",
        "session_screen_count",
        "session_screen_list",
        "session_unique_screen_count",
        "session_unresponsive_gesture_count",
        "session_id",
    ),
    Attribute("event_uploadedon_day", BUCKET, "Events by upload day", "uploaded_at", groupable=True, bucket="day"),
    Attribute("event_uploaded_week", BUCKET, "Events by upload week (Mon-Sun)", "uploaded_at", groupable=True, bucket="week"),
    Attribute("event_uploaded_month", BUCKET, "Events by upload month", "uploaded_at", groupable=True, bucket="month"),
    *_shared("device_city", "device_country", "uxcamuserid", "user_name", "user_custom_property"),
    Attribute("event_name", STRING, "The event's name", "ev_name", groupable=True),
    Attribute("event_screen_name", STRING, "The screen the event happened on", "ev_screen", groupable=True),
    Attribute(
        "event_custom_property",
        JSON,
        "The event's custom properties (needs property_name)",
        "ev_pmap",
        groupable=True,
        aggregatable=True,
    ),
    # Web only
    *_shared(*WEB_ONLY),
    # Counts: metrics only
    Attribute("event_count", COUNT, "Number of events"),
    Attribute("event_unique_user_count", COUNT, "Distinct users with a matching event"),
    Attribute("event_unique_session_count", COUNT, "Distinct sessions with a matching event"),
    Attribute("session_new_users_count", COUNT, "Users whose first session has a matching event"),
]

EVENTS = Resource(
    name="event",
    table="events",
    time_column="uploaded_at",
    attributes={a.name: a for a in EVENT_ATTRIBUTES},
    relation="events",
    order_key=("session_id", "ev_seq"),
    carry=("uxcamuserid", "user_key", "session_number", "session_id"),
    link_path="events",
    link_table="event",
    bucket_param="event_uploadedon",
)
