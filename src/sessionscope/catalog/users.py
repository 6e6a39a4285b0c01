"""The user attribute catalogue (reference: users-1.md). Adding an attribute is one line.

A user is seen through its sessions: the base relation has one row per session in the window, carrying
the user's totals over the window (`user_*`) and the upload time of the user's first ever session
(`user_first_seen_on`). A user matches when one of its sessions matches every filter, so session
attributes mean "had a session with ..." and user attributes test the user's totals. A negative condition
on the events (`event_name`, `event_custom_property`) is the user's: it had none in any session of the
window (SPEC §4), not a session without one.
"""

from __future__ import annotations

from dataclasses import replace

from .operators import OPERATORS
from .sessions import SESSION_BY_NAME as _SESSION
from .sessions import SESSIONS, WEB_ONLY
from .sessions import shared as _shared
from .types import COUNT, DATETIME, FLOAT, INTEGER, Attribute, Resource


def _total(name: str, kind: str, description: str) -> Attribute:
    # the column of the same name is the user's total in the users relation (query/relations.py)
    return Attribute(name, kind, description, name, aggregatable=True)


USER_ATTRIBUTES: list[Attribute] = [
    replace(_SESSION["date_range"], description="Time the user's sessions were uploaded (the query window)"),
    Attribute(
        "user_first_seen_on",
        DATETIME,
        "Upload time of the user's first ever session",
        "user_first_seen_at",
        condition=True,
    ),
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
    _total("user_session_count", INTEGER, "Sessions of the user in the window"),
    _total("user_gesture_count", INTEGER, "Gestures of the user in the window"),
    _total("user_rage_gesture_count", INTEGER, "Rage gestures of the user in the window"),
    _total("user_responsive_gesture_count", INTEGER, "Responsive gestures of the user in the window"),
    _total("user_unresponsive_gesture_count", INTEGER, "Unresponsive gestures of the user in the window"),
    _total("user_session_screen_count", INTEGER, "Screens the user visited in the window"),
    _total("user_session_duration", FLOAT, "Seconds the user spent in the app in the window"),
    _total("user_event_count", INTEGER, "Events of the user in the window"),
    # "had none" is the user's: no such event in any of its sessions in the window
    *(replace(a, of_user=True, description=f"{a.description}; negative operators: the user had none in the window")
      for a in _shared("event_name", "event_custom_property")),
    *_shared(
        "session_screen_list",
        "session_uploadedon_day",
        "session_uploaded_week",
        "session_uploaded_month",
        "device_city",
        "device_country",
        "user_custom_property",
        "user_name",
        "uxcamuserid",
    ),
    # Web only
    *_shared(*WEB_ONLY),
    # Counts: metrics only
    Attribute("user_count", COUNT, "Number of users"),
    Attribute("session_new_users_count", COUNT, "Users whose first session is among the matching sessions"),
]

USERS = Resource(
    name="user",
    table="sessions",
    time_column="uploaded_at",
    attributes={a.name: a for a in USER_ATTRIBUTES},
    relation="users",
    order_key=("uxcamuserid",),
    per_user=True,
)

_HAD_NONE = {
    "event_name": "No session of the user in the window had such an event (a user row's negative event_name)",
    "event_custom_property": "No session of the user in the window had an event whose property matches "
    "(needs property_name)",
}


def user_level(name: str) -> str:
    """The name the sessions of users give a user's "had none" condition on `name` (event_name ->
    user_event_name)."""
    return f"user_{name}"


# The sessions of the users that match user conditions: where a user analytics row's `dashboard_link` lands
# (the reference links those rows to the session list, with conditions such as `user_session_count`). The
# session catalogue plus the user's own attributes as filters, over the users relation: each session carries
# its user's totals over the window, so a session matches when it passes the session filters and its user
# passes the user ones.
# A time bucket of such a row (`session_uploadedon`) picks the sessions without being the window: the users'
# totals stay over the request's window, as the row counted them (a bucket read as a date_range narrowed the
# window to the week, and `user_session_count > 3` then meant more than 3 sessions in that week).
SESSIONS_OF_USERS = replace(
    SESSIONS,
    relation="users",
    attributes={
        **SESSIONS.attributes,
        **{
            a.name: replace(a, groupable=False, aggregatable=False)
            for a in USER_ATTRIBUTES
            if a.name not in SESSIONS.attributes and a.type != COUNT
        },
        # a user row's "had none" conditions (a negative event_name or event_custom_property): the sessions
        # of the users with no such event in the window; their links name them so (dashboard_link.py)
        **{
            user_level(a.name): replace(
                a, name=user_level(a.name), groupable=False, aggregatable=False,
                description=_HAD_NONE[a.name],
                only_operators=tuple(o for o in a.operators if OPERATORS[o].negative),
            )
            for a in USER_ATTRIBUTES
            if a.of_user
        },
        "session_uploadedon": Attribute(
            "session_uploadedon",
            DATETIME,
            "Upload time of the session, within the window (a time bucket)",
            "uploaded_at",
            condition=True,
        ),
    },
)


def sessions_for(filter_names: set[str]) -> Resource:
    """The session resource that can read these filters: the sessions alone unless one tests a user's own
    attribute."""
    return SESSIONS if filter_names <= SESSIONS.attributes.keys() else SESSIONS_OF_USERS
