"""The stored tables, defined once as data; each engine maps the logical types to its own DDL.

A session is one wide row. Per-user derived columns (`session_number`, `first_*`) are maintained
at ingest time so that queries never need window functions.
"""

from __future__ import annotations

import pyarrow as pa

# logical type -> Arrow type (what ingest produces)
ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "ts": pa.timestamp("s"),
    "strlist": pa.list_(pa.string()),
    "strmap": pa.map_(pa.string(), pa.string()),
}

SESSION_COLUMNS: list[tuple[str, str]] = [
    ("app_id", "str"),
    ("session_id", "str"),
    ("uxcamuserid", "str"),
    ("uploaded_at", "ts"),
    ("device_local_at", "ts"),
    ("verified_at", "ts"),
    ("started_at", "ts"),
    ("offline_recorded", "bool"),
    ("has_video", "bool"),
    ("is_crashed", "bool"),
    ("duration_sec", "float"),
    ("total_gesture", "int"),
    ("total_screen", "int"),
    ("unique_screens_count", "int"),
    ("rage_gesture_count", "int"),
    ("responsive_gesture_count", "int"),
    ("unresponsive_gesture_count", "int"),
    ("network_type", "str"),
    ("user_identity", "str"),
    ("user_alias", "str"),
    ("user_props", "str"),  # custom user properties as JSON text, original key order and JSON types
    ("uprops", "strmap"),  # the same, values as text, for filtering and grouping
    ("carrier_code", "str"),
    ("carrier_name", "str"),
    ("os_name", "str"),
    ("app_version", "str"),
    ("sdk_version", "str"),
    ("os_version", "str"),
    ("device_language", "str"),
    ("device_country", "str"),
    ("total_storage_kb", "int"),
    ("total_ram_kb", "int"),
    ("free_ram_kb", "int"),
    ("dpi", "int"),
    ("height", "int"),
    ("width", "int"),
    ("device_type", "str"),
    ("device_class", "str"),
    ("manufacturer", "str"),
    ("model", "str"),
    ("device_id", "str"),
    ("notification_enabled", "bool"),
    ("is_rooted", "bool"),
    ("platform", "str"),
    ("country_code", "str"),
    ("city", "str"),
    ("longitude", "float"),
    ("latitude", "float"),
    ("is_web", "bool"),
    ("browser_name", "str"),
    ("browser_version", "str"),
    ("referer", "str"),
    ("referer_domain", "str"),
    ("utm", "str"),  # JSON text of the utm object
    ("utm_map", "strmap"),
    ("web_extra", "str"),  # JSON text of the whole `web` object as sent
    ("screens", "strlist"),
    ("unique_screens", "strlist"),
    ("event_names", "strlist"),
    ("event_count", "int"),
    ("extra", "str"),  # JSON text of unknown keys under property/device/location, returned as sent
    ("session_number", "int"),
    ("first_referer", "str"),
    ("first_referer_domain", "str"),
    ("first_screen_name", "str"),
    ("first_utm", "str"),
    ("first_utm_map", "strmap"),
]

EVENT_COLUMNS: list[tuple[str, str]] = [
    ("app_id", "str"),
    ("session_id", "str"),
    ("uxcamuserid", "str"),
    ("seq", "int"),
    ("name", "str"),
    ("screen", "str"),
    ("time_sec", "float"),
    ("uploaded_at", "ts"),
    ("event_at", "ts"),
    ("props", "str"),
    ("pmap", "strmap"),
]

# Columns recomputed per user after every write (derived from the user's earliest session).
USER_DERIVED = ["session_number", "first_referer", "first_referer_domain", "first_screen_name", "first_utm", "first_utm_map"]

SCHEMA_VERSION = 1


def arrow_schema(columns: list[tuple[str, str]]) -> pa.Schema:
    return pa.schema([(name, ARROW_TYPES[kind]) for name, kind in columns])


SESSION_SCHEMA = arrow_schema(SESSION_COLUMNS)
EVENT_SCHEMA = arrow_schema(EVENT_COLUMNS)
