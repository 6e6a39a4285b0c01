"""Validate session documents (SPEC §8.1) and turn a batch into Arrow tables shaped as the store's schema.

This is the hot path of ingestion, so it is written for speed: one pass per document, inline `type(v) is`
checks on the happy path, and a call to a `_*_slow` helper only when a value is unusual (a number sent for
a text field) or wrong (the helper then records the error). Each valid document becomes one row tuple
(`_ROW_ORDER`) and one small tuple per event; they are transposed into Arrow columns once per batch, with
the cyclic garbage collector paused (see `gc_paused`).

Rules the code implements (the lead's brief plus these choices):
- `null` means absent everywhere, including custom user/event properties (a null custom property is dropped).
- Numbers are accepted for text fields (`appVersion: 1.5` → "1.5"); booleans are not. Booleans accept 0/1.
  Integers accept floats with an integral value. Integers must fit in 64 bits.
- An empty string for `uxcamuserid`, `kUXCam_UserIdentity` or `deviceId` counts as absent.
- Top-level `url`, `video` and `sessionNumber` (present in exported List Sessions rows) are ignored, so an
  export can be imported again; any other unknown top-level key is an error. Unknown keys inside
  `property`/`device`/`location` are kept in `extra`; unknown keys in `web` are kept in `web_extra` (the web
  object as sent, minus its null fields);
  unknown keys in an event are an error.
- `property.uniqueScreens` (an exported field) is accepted and used for `unique_screens` when `screens` is absent,
  and, when not empty, for `unique_screens_count` when that is absent (an export's empty list stands for a
  session whose screens are unknown as well as for one with none: its `uniqueScreensCount` says which).
- Gestures: `totalGesture` absent and either responsive count present → total = responsive + unresponsive
  (a missing one counts 0, and is stored as 0). `totalGesture` present with exactly one of responsive/unresponsive → the other is
  total minus it, when that is ≥ 0. `rageGestureCount` defaults to 0 when the total is known; other missing
  counts stay NULL.
- Screens: `total_screen`/`unique_screens_count` come from the property when given, else from `screens`
  when that key is present, else NULL. Screen names and event names must be non-empty.
- Event `properties` values must be JSON scalars; user custom properties may also be arrays or objects
  (strings nested inside those are not length-checked). Property names are not length-checked.
- Custom properties are kept as sent (types included) for responses, and as text for filters and group_by:
  a whole-number float is written as its integer there (5.0 → "5"), so 5 and 5.0 are one value.
- A sessionId repeated within a batch: the last valid document wins (see `NormalisedBatch`).
- `uxcamuserid` derived from an identity or device id: the first 24 hex chars of
  sha1("{app_id}\0identity\0{value}") or sha1("{app_id}\0device\0{value}"), so it is stable across batches.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate, chain
from operator import itemgetter
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..store.received import RECEIVED, STARTED, UPLOAD, VERIFIED
from ..store.schema import EVENT_SCHEMA, SESSION_COLUMNS, SESSION_SCHEMA, USER_DERIVED
from .derive import derive_alias, derive_device_class, derive_user_id, referer_domain
from .parse import Unreadable, gc_paused


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-document limits (SPEC §8.2)."""

    max_events_per_session: int = 2_000
    max_screens_per_session: int = 2_000
    max_string_length: int = 1_024
    max_custom_properties: int = 100

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(
            max_events_per_session=settings.max_events_per_session,
            max_screens_per_session=settings.max_screens_per_session,
            max_string_length=settings.max_string_length,
            max_custom_properties=settings.max_custom_properties,
        )


@dataclass(slots=True)
class NormalisedBatch:
    """The outcome of one batch.

    `accepted` counts every valid document; `sessions`/`accepted_ids` hold one row per distinct sessionId
    (when a batch repeats a sessionId, the last valid document wins and the earlier one is dropped silently),
    so `accepted` can exceed `len(accepted_ids)`. `events` holds the events of the rows in `sessions` only.
    """

    sessions: pa.Table
    events: pa.Table
    accepted: int
    rejected: list[dict[str, Any]]
    accepted_ids: list[str]


_I64 = 2**63 - 1
# A session's counts and duration are bounded so that what adds them up cannot overflow: per-user totals and
# sums are 64-bit integers on ClickHouse (DuckDB widens them), and a sum of floats must stay finite; a billion
# gestures or seconds (31 years) is past any real session
_MAX_COUNT = 10**9
_MAX_DURATION = 1e9
_MAXF = 1.7976931348623157e308  # the largest finite float: `0 <= v <= _MAXF` also refuses inf and NaN
_EXACT_INTS = 2.0**53  # every whole float up to this is an integer written exactly
_MAX_OFFSET = 1e9  # event offsets beyond ~31 years would overflow the engines' timestamp ranges
_OFFSET_RULE = "a number of seconds into the session, from 0 to 1000000000"
_MAX_ERRORS = 50  # per document; a list of 2,000 bad events would drown the response

_DOC_KEYS = ("sessionId", "property", "user", "device", "location", "screens", "events", "web")
_WEB_KEYS = frozenset(("browserName", "browserVersion", "osName", "deviceType", "referer", "utm"))
_DOC_IGNORED = ("url", "video", "sessionNumber")  # output-only fields of a List Sessions row
_DOC_ALLOWED = frozenset(_DOC_KEYS + _DOC_IGNORED)
_PROPERTY_KEYS = frozenset(
    (
        "uploadedServerTime", "deviceLocalDateTime", "verifiedServerTime", "offlineRecorded", "hasVideo",
        "isCrashed", "durationSec", "totalGesture", "totalScreen", "uniqueScreensCount", "rageGestureCount",
        "responsiveGestureCount", "unresponsiveGestureCount", "networkType", "uniqueScreens",
    )
)  # fmt: skip
_DEVICE_KEYS = frozenset(
    (
        "carrierCode", "carrierName", "osName", "appVersion", "sdkVersion", "osVersion", "language", "country",
        "totalStorageInKB", "totalRamInKB", "freeRamInKb", "dpi", "height", "width", "type", "class",
        "producer", "model", "deviceId", "isNotificationEnabled", "isRooted", "platform",
    )
)  # fmt: skip
_LOCATION_KEYS = frozenset(("countryCode", "city", "longitude", "latitude"))
_USER_RESERVED = frozenset(("uxcamuserid", "kUXCam_UserIdentity", "alias"))
_EVENT_KEYS = ("name", "screen", "timeSec", "properties")
_EVENT_ALLOWED = frozenset(_EVENT_KEYS)

_SID_OK = re.compile(r"[A-Za-z0-9_.:\-]{1,64}").fullmatch
_SID_RULE = "1-64 characters of A-Z a-z 0-9 _ . : -"
_PLATFORMS: dict[Any, str] = {
    "android": "android",
    "ios": "ios",
    "1": "android",
    "2": "ios",
    1: "android",
    2: "ios",
}
_EMPTY: dict[str, Any] = {}  # stands in for an absent object; never mutated
_dumps = orjson.dumps
_fromiso = datetime.fromisoformat
_floor = math.floor

# The row tuple built in `_normalise_doc` follows this order: the schema's columns minus `app_id` (one value
# per batch) and the per-user columns the store computes (always NULL here). Checked once at import.
_ROW_ORDER = (
    "session_id", "uxcamuserid", "uploaded_at", "device_local_at", "verified_at", "started_at",
    "offline_recorded", "has_video", "is_crashed", "duration_sec", "total_gesture", "total_screen",
    "unique_screens_count", "rage_gesture_count", "responsive_gesture_count", "unresponsive_gesture_count",
    "network_type", "user_identity", "user_alias", "user_props", "uprops", "carrier_code", "carrier_name",
    "os_name", "app_version", "sdk_version", "os_version", "device_language", "device_country",
    "total_storage_kb", "total_ram_kb", "free_ram_kb", "dpi", "height", "width", "device_type", "device_class",
    "manufacturer", "model", "device_id", "notification_enabled", "is_rooted", "platform", "country_code", "city",
    "longitude", "latitude", "is_web", "browser_name", "browser_version", "referer", "referer_domain", "utm",
    "utm_map", "web_extra", "screens", "unique_screens", "event_names", "event_count", "extra",
)  # fmt: skip
assert _ROW_ORDER == tuple(n for n, _ in SESSION_COLUMNS if n != "app_id" and n not in USER_DERIVED), (
    "update _normalise_doc"
)
_ROW_TYPES = [SESSION_SCHEMA.field(name).type for name in _ROW_ORDER]
# the batch's sessions: the stored columns, then the flags of times taken from the time of receipt
BATCH_SCHEMA = SESSION_SCHEMA.append(pa.field(RECEIVED, pa.uint8(), nullable=False))
# The per-event tuple; the other event columns are taken from the session's row.
_EVENT_ROW_ORDER = ("seq", "name", "screen", "time_sec", "props", "pmap")
_EVENT_ROW_TYPES = [EVENT_SCHEMA.field(name).type for name in _EVENT_ROW_ORDER]
_second = itemgetter(1)


def _without_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v is not None}


def _json_text(v: Any) -> str:
    return _dumps(v, option=orjson.OPT_NON_STR_KEYS).decode()


def _number_text(v: float) -> str:
    """A float custom property's text in the filter/group map: a whole number is written as the integer it
    equals (5.0 -> "5"), so one SDK's 5 and another's 5.0 are one value to `equal "5"` and to group_by."""
    if v.is_integer() and -_EXACT_INTS <= v <= _EXACT_INTS:
        return str(int(v))
    return _dumps(v).decode()


# Fields that mark a row of the users' or events' list or export: such a file is not session documents.
_OTHER_ROWS = (
    (frozenset(("uxcamUserId", "usage")), "user"),
    (frozenset(("eventId", "eventName")), "event"),
)


def _other_export_row(doc: dict[str, Any]) -> str | None:
    """One error for a user or event row sent as a session, instead of an "unknown field" per key."""
    for marks, resource in _OTHER_ROWS:
        if marks.issubset(doc):
            return (
                f"document: a {resource} row (of /v2/{resource} or `export --resource {resource}`), not a session "
                "document; import takes sessions, such as an export of /v2/session (`export --resource session`)"
            )
    return None


def normalise_batch(app_id: str, docs: list[Any], *, now: datetime, limits: Limits) -> NormalisedBatch:
    """Validate `docs` and build the session and event tables for `app_id`.

    `now` (naive UTC or aware) is the time of receipt: the default `uploadedServerTime`. Invalid documents
    are reported in `rejected` by index with every problem found ("<json path>: <what is wrong>").
    """
    now_s = _epoch(now)
    rows: dict[str, tuple[Any, ...]] = {}
    events: dict[str, list[tuple[Any, ...]]] = {}  # same keys, same order as `rows`
    rejected: list[dict[str, Any]] = []
    accepted = 0
    with gc_paused():
        for index, doc in enumerate(docs):
            try:
                row, doc_events, errs = _normalise_doc(doc, app_id, now_s, limits)
            except (TypeError, ValueError, OverflowError) as e:
                # a value no check foresaw (e.g. an odd type from a Parquet file) rejects its document only
                row, doc_events, errs = None, None, [f"document: could not be read ({e})"]
            if errs:
                rejected.append({"index": index, "sessionId": _reported_id(doc), "errors": _capped(errs)})
                continue
            accepted += 1
            sid = row[0]
            rows[sid] = row  # a repeated sessionId keeps its first position but takes the last document
            events[sid] = doc_events
        sessions = _sessions_table(app_id, list(rows.values()))
        batch = NormalisedBatch(
            sessions=sessions,
            events=_events_table(app_id, sessions, list(events.values())),
            accepted=accepted,
            rejected=rejected,
            accepted_ids=list(rows),
        )
        # Free the millions of row tuples while the collector is still paused, so that its first pass
        # afterwards does not have to walk them.
        del rows, events
    return batch


def _sessions_table(app_id: str, rows: list[tuple[Any, ...]]) -> pa.Table:
    n = len(rows)
    if not n:
        return BATCH_SCHEMA.empty_table()
    arrays = {
        name: pa.array(col, type=t)
        for name, t, col in zip(
            (*_ROW_ORDER, RECEIVED), (*_ROW_TYPES, pa.uint8()), zip(*rows, strict=True), strict=True
        )
    }
    arrays["app_id"] = pa.repeat(pa.scalar(app_id, pa.string()), n)
    for name in USER_DERIVED:
        arrays[name] = pa.nulls(n, SESSION_SCHEMA.field(name).type)
    return pa.Table.from_arrays([arrays[f.name] for f in BATCH_SCHEMA], schema=BATCH_SCHEMA)


def _events_table(app_id: str, sessions: pa.Table, per_session: list[list[tuple[Any, ...]]]) -> pa.Table:
    """Events of the stored sessions; the columns a session shares with its events are taken from its row."""
    offsets = [0, *accumulate(map(len, per_session))]
    total = offsets[-1]
    if not total:
        return EVENT_SCHEMA.empty_table()
    owner = pc.list_parent_indices(pa.ListArray.from_arrays(pa.array(offsets, pa.int64()), pa.nulls(total)))
    rows = list(chain.from_iterable(per_session))
    arrays = {
        name: pa.array(col, type=t)
        for name, t, col in zip(_EVENT_ROW_ORDER, _EVENT_ROW_TYPES, zip(*rows, strict=True), strict=True)
    }
    for name in ("session_id", "uxcamuserid", "uploaded_at"):
        arrays[name] = sessions.column(name).take(owner)
    arrays["app_id"] = pa.repeat(pa.scalar(app_id, pa.string()), total)
    # event_at = the session's start + whole seconds of timeSec (timeSec ≤ 1e9, so the sum cannot overflow)
    started = pc.cast(sessions.column("started_at").take(owner), pa.int64())
    offset = pc.cast(pc.trunc(arrays["time_sec"]), pa.int64())
    arrays["event_at"] = pc.cast(pc.add(started, offset), pa.timestamp("s"))
    return pa.Table.from_arrays([arrays[f.name] for f in EVENT_SCHEMA], schema=EVENT_SCHEMA)


def _normalise_doc(
    doc: Any, app_id: str, now_s: int, lim: Limits
) -> tuple[tuple[Any, ...] | None, list[tuple[Any, ...]] | None, list[str]]:
    """One document → (session row, event rows, []) or (None, None, errors)."""
    if type(doc) is not dict:
        if type(doc) is Unreadable:
            return None, None, [doc.reason]
        if type(doc) is list:  # e.g. a JSON array given to the import, which reads one document per line
            return None, None, ["document: must be a JSON object (one session document), got an array; "
                                "NDJSON holds one document per line"]
        return None, None, ["document: must be a JSON object (one session document)"]
    errs: list[str] = []
    ml = lim.max_string_length
    if not _DOC_ALLOWED.issuperset(doc):
        other = _other_export_row(doc)
        if other is not None:
            return None, None, [other]
        allowed = ", ".join(_DOC_KEYS)
        errs.extend(f"{k}: unknown field; allowed: {allowed}" for k in doc if k not in _DOC_ALLOWED)
    extra: dict[str, Any] | None = None

    sid = doc.get("sessionId")
    if type(sid) is not str or not _SID_OK(sid):
        sid = _sid_slow(sid, errs)

    # property
    prop = doc.get("property")
    if prop is None:
        prop = _EMPTY
    elif type(prop) is not dict:
        errs.append("property: must be an object")
        prop = _EMPTY
    g = prop.get
    v = g("uploadedServerTime")
    received = UPLOAD if v is None else 0  # which times are the time of receipt (store/received.py)
    uploaded = now_s if v is None else _ts(v, "property.uploadedServerTime", errs)
    v = g("deviceLocalDateTime")
    device_local = None if v is None else _ts(v, "property.deviceLocalDateTime", errs)
    v = g("verifiedServerTime")
    verified = uploaded if v is None else _ts(v, "property.verifiedServerTime", errs)
    started = uploaded if device_local is None else device_local
    if received:  # what followed from the time of receipt moves with it when a re-sent session keeps its own
        received |= (VERIFIED if v is None else 0) | (STARTED if device_local is None else 0)
    offline = g("offlineRecorded")
    if offline is None:
        offline = False
    elif type(offline) is not bool:
        offline = _bool_slow(offline, "property.offlineRecorded", errs)
    has_video = g("hasVideo")
    if has_video is None:
        has_video = False
    elif type(has_video) is not bool:
        has_video = _bool_slow(has_video, "property.hasVideo", errs)
    crashed = g("isCrashed")
    if crashed is None:
        crashed = False
    elif type(crashed) is not bool:
        crashed = _bool_slow(crashed, "property.isCrashed", errs)
    duration = g("durationSec")
    if duration is not None and not (type(duration) is float and 0.0 <= duration <= _MAX_DURATION):
        duration = _float_slow(duration, "property.durationSec", errs, 0.0, _MAX_DURATION, "a number ≥ 0")
    total_g = g("totalGesture")
    if total_g is not None and (type(total_g) is not int or not 0 <= total_g <= _MAX_COUNT):
        total_g = _int_slow(total_g, "property.totalGesture", errs, 0, _MAX_COUNT)
    total_s = g("totalScreen")
    if total_s is not None and (type(total_s) is not int or not 0 <= total_s <= _MAX_COUNT):
        total_s = _int_slow(total_s, "property.totalScreen", errs, 0, _MAX_COUNT)
    uniq_n = g("uniqueScreensCount")
    if uniq_n is not None and (type(uniq_n) is not int or not 0 <= uniq_n <= _MAX_COUNT):
        uniq_n = _int_slow(uniq_n, "property.uniqueScreensCount", errs, 0, _MAX_COUNT)
    rage = g("rageGestureCount")
    if rage is not None and (type(rage) is not int or not 0 <= rage <= _MAX_COUNT):
        rage = _int_slow(rage, "property.rageGestureCount", errs, 0, _MAX_COUNT)
    resp = g("responsiveGestureCount")
    if resp is not None and (type(resp) is not int or not 0 <= resp <= _MAX_COUNT):
        resp = _int_slow(resp, "property.responsiveGestureCount", errs, 0, _MAX_COUNT)
    unresp = g("unresponsiveGestureCount")
    if unresp is not None and (type(unresp) is not int or not 0 <= unresp <= _MAX_COUNT):
        unresp = _int_slow(unresp, "property.unresponsiveGestureCount", errs, 0, _MAX_COUNT)
    network = g("networkType")
    if network is not None and (type(network) is not str or len(network) > ml):
        network = _str_slow(network, "property.networkType", errs, ml)
    prop_unique = g("uniqueScreens")
    if prop_unique is not None:
        prop_unique = _str_list(prop_unique, "property.uniqueScreens", errs, ml, lim.max_screens_per_session)
    if not _PROPERTY_KEYS.issuperset(prop):
        extra = _unknown(extra, "property", prop, _PROPERTY_KEYS, errs, ml)

    # user
    user = doc.get("user")
    if user is None:
        user = _EMPTY
    elif type(user) is not dict:
        errs.append("user: must be an object")
        user = _EMPTY
    g = user.get
    uid = g("uxcamuserid")
    if uid is not None and (type(uid) is not str or len(uid) > ml):
        uid = _str_slow(uid, "user.uxcamuserid", errs, ml)
    identity = g("kUXCam_UserIdentity")
    if identity is not None and (type(identity) is not str or len(identity) > ml):
        identity = _str_slow(identity, "user.kUXCam_UserIdentity", errs, ml)
    alias = g("alias")
    if alias is not None and (type(alias) is not str or len(alias) > ml):
        alias = _str_slow(alias, "user.alias", errs, ml)
    user_props = uprops = None
    if len(user) > (uid is not None) + (identity is not None) + (alias is not None):
        custom: dict[str, Any] = {}
        uprops = []
        odd = False  # something the slow path must look at: a value that is not JSON, or a limit reached
        for k, v in user.items():
            if k in _USER_RESERVED:
                continue
            t = type(v)
            if t is str:
                uprops.append((k, v))
            elif t is int:
                uprops.append((k, str(v)))
            elif t is bool:
                uprops.append((k, "true" if v else "false"))
            elif t is float:
                uprops.append((k, _number_text(v)))
            elif t is list or t is dict:
                uprops.append((k, _json_text(v)))
            elif v is None:
                continue
            else:
                odd = True
                break
            custom[k] = v
        if odd:
            pass
        elif not custom:
            uprops = None
        else:
            props_bytes = _dumps(custom, option=orjson.OPT_NON_STR_KEYS)
            # the JSON text holds every string in full, so a short text means no string is over the limit
            if len(props_bytes) > ml or len(uprops) > lim.max_custom_properties:
                odd = True
            else:
                user_props = props_bytes.decode()
        if odd:
            user_props, uprops = _custom_props(user, errs, ml, lim.max_custom_properties)

    # device
    device = doc.get("device")
    if device is None:
        device = _EMPTY
    elif type(device) is not dict:
        errs.append("device: must be an object")
        device = _EMPTY
    g = device.get
    carrier_code = g("carrierCode")
    if carrier_code is not None and (type(carrier_code) is not str or len(carrier_code) > ml):
        carrier_code = _str_slow(carrier_code, "device.carrierCode", errs, ml)
    carrier_name = g("carrierName")
    if carrier_name is not None and (type(carrier_name) is not str or len(carrier_name) > ml):
        carrier_name = _str_slow(carrier_name, "device.carrierName", errs, ml)
    os_name = g("osName")
    if os_name is not None and (type(os_name) is not str or len(os_name) > ml):
        os_name = _str_slow(os_name, "device.osName", errs, ml)
    app_version = g("appVersion")
    if app_version is not None and (type(app_version) is not str or len(app_version) > ml):
        app_version = _str_slow(app_version, "device.appVersion", errs, ml)
    sdk_version = g("sdkVersion")
    if sdk_version is not None and (type(sdk_version) is not str or len(sdk_version) > ml):
        sdk_version = _str_slow(sdk_version, "device.sdkVersion", errs, ml)
    os_version = g("osVersion")
    if os_version is not None and (type(os_version) is not str or len(os_version) > ml):
        os_version = _str_slow(os_version, "device.osVersion", errs, ml)
    language = g("language")
    if language is not None and (type(language) is not str or len(language) > ml):
        language = _str_slow(language, "device.language", errs, ml)
    country = g("country")
    if country is not None and (type(country) is not str or len(country) > ml):
        country = _str_slow(country, "device.country", errs, ml)
    storage = g("totalStorageInKB")
    if storage is not None and (type(storage) is not int or not -_I64 <= storage <= _I64):
        storage = _int_slow(storage, "device.totalStorageInKB", errs, -_I64)
    ram = g("totalRamInKB")
    if ram is not None and (type(ram) is not int or not -_I64 <= ram <= _I64):
        ram = _int_slow(ram, "device.totalRamInKB", errs, -_I64)
    free_ram = g("freeRamInKb")
    if free_ram is not None and (type(free_ram) is not int or not -_I64 <= free_ram <= _I64):
        free_ram = _int_slow(free_ram, "device.freeRamInKb", errs, -_I64)
    dpi = g("dpi")
    if dpi is not None and (type(dpi) is not int or not -_I64 <= dpi <= _I64):
        dpi = _int_slow(dpi, "device.dpi", errs, -_I64)
    height = g("height")
    if height is not None and (type(height) is not int or not -_I64 <= height <= _I64):
        height = _int_slow(height, "device.height", errs, -_I64)
    width = g("width")
    if width is not None and (type(width) is not int or not -_I64 <= width <= _I64):
        width = _int_slow(width, "device.width", errs, -_I64)
    dtype = g("type")
    if dtype is not None and (type(dtype) is not str or len(dtype) > ml):
        dtype = _str_slow(dtype, "device.type", errs, ml)
    dclass = g("class")
    if dclass is not None and (type(dclass) is not str or len(dclass) > ml):
        dclass = _str_slow(dclass, "device.class", errs, ml)
    producer = g("producer")
    if producer is not None and (type(producer) is not str or len(producer) > ml):
        producer = _str_slow(producer, "device.producer", errs, ml)
    model = g("model")
    if model is not None and (type(model) is not str or len(model) > ml):
        model = _str_slow(model, "device.model", errs, ml)
    device_id = g("deviceId")
    if device_id is not None and (type(device_id) is not str or len(device_id) > ml):
        device_id = _str_slow(device_id, "device.deviceId", errs, ml)
    notif = g("isNotificationEnabled")
    if notif is not None and type(notif) is not bool:
        notif = _bool_slow(notif, "device.isNotificationEnabled", errs)
    rooted = g("isRooted")
    if rooted is not None and type(rooted) is not bool:
        rooted = _bool_slow(rooted, "device.isRooted", errs)
    platform = g("platform")
    if platform is not None:
        platform = _PLATFORMS.get(platform) if type(platform) is str else None
        if platform is None:
            platform = _platform_slow(g("platform"), errs)
    if not _DEVICE_KEYS.issuperset(device):
        extra = _unknown(extra, "device", device, _DEVICE_KEYS, errs, ml)

    # location
    location = doc.get("location")
    if location is None:
        location = _EMPTY
    elif type(location) is not dict:
        errs.append("location: must be an object")
        location = _EMPTY
    g = location.get
    country_code = g("countryCode")
    if country_code is not None and (type(country_code) is not str or len(country_code) > ml):
        country_code = _str_slow(country_code, "location.countryCode", errs, ml)
    city = g("city")
    if city is not None and (type(city) is not str or len(city) > ml):
        city = _str_slow(city, "location.city", errs, ml)
    lon = g("longitude")
    if lon is not None and not (type(lon) is float and -180.0 <= lon <= 180.0):
        lon = _float_slow(lon, "location.longitude", errs, -180.0, 180.0, "a number from -180 to 180")
    lat = g("latitude")
    # latitude takes longitude's range: the reference's own sessions have the two swapped in about one in
    # twelve (a latitude of -149.1091), and refusing them would refuse the sessions a migration brings
    if lat is not None and not (type(lat) is float and -180.0 <= lat <= 180.0):
        lat = _float_slow(lat, "location.latitude", errs, -180.0, 180.0, "a number from -180 to 180")
    if not _LOCATION_KEYS.issuperset(location):
        extra = _unknown(extra, "location", location, _LOCATION_KEYS, errs, ml)

    # web
    web = doc.get("web")
    is_web = False
    browser_name = browser_version = web_os = web_dtype = referer = ref_domain = None
    utm = utm_map = web_extra = None
    if web is not None:
        if type(web) is not dict:
            errs.append("web: must be an object")
        else:
            is_web = True
            g = web.get
            browser_name = g("browserName")
            if browser_name is not None and (type(browser_name) is not str or len(browser_name) > ml):
                browser_name = _str_slow(browser_name, "web.browserName", errs, ml)
            browser_version = g("browserVersion")
            if browser_version is not None and (
                type(browser_version) is not str or len(browser_version) > ml
            ):
                browser_version = _str_slow(browser_version, "web.browserVersion", errs, ml)
            web_os = g("osName")
            if web_os is not None and (type(web_os) is not str or len(web_os) > ml):
                web_os = _str_slow(web_os, "web.osName", errs, ml)
            web_dtype = g("deviceType")
            if web_dtype is not None and (type(web_dtype) is not str or len(web_dtype) > ml):
                web_dtype = _str_slow(web_dtype, "web.deviceType", errs, ml)
            referer = g("referer")
            if referer is not None and (type(referer) is not str or len(referer) > ml):
                referer = _str_slow(referer, "web.referer", errs, ml)
            if referer:
                ref_domain = referer_domain(referer)
            raw_utm = g("utm")
            if raw_utm is not None:
                utm, utm_map = _utm(raw_utm, errs, ml)
            for k, v in web.items():  # kept as sent, under the same limit as device's and location's own
                if k not in _WEB_KEYS and type(v) is str and len(v) > ml:
                    errs.append(f"web.{k}: must be at most {ml} characters (got {len(v)})")
            web_extra = _dumps(_without_nulls(web) if None in web.values() else web).decode()

    # screens
    screens = doc.get("screens")
    if screens is None:
        has_screens = False
        screens = []
    else:
        has_screens = True
        max_sc = lim.max_screens_per_session
        if type(screens) is not list or len(screens) > max_sc:
            screens = _str_list(screens, "screens", errs, ml, max_sc)
        else:
            for s in screens:
                if type(s) is not str or not s or len(s) > ml:
                    screens = _str_list(screens, "screens", errs, ml, max_sc)
                    break

    # identity (needs user and device)
    if not uid:
        if identity:
            uid = derive_user_id(app_id, "identity", identity)
        elif device_id:
            uid = derive_user_id(app_id, "device", device_id)
        elif not (user.get("uxcamuserid") or user.get("kUXCam_UserIdentity") or device.get("deviceId")):
            # (an identity that was sent but invalid has its own error already)
            errs.append("user: needs user.uxcamuserid, user.kUXCam_UserIdentity or device.deviceId")

    # events
    raw_events = doc.get("events")
    event_rows: list[tuple[Any, ...]] = []
    if raw_events is not None:
        if type(raw_events) is not list:
            errs.append("events: must be a list of event objects")
        else:
            if len(raw_events) > lim.max_events_per_session:
                errs.append(
                    f"events: at most {lim.max_events_per_session} events allowed (got {len(raw_events)})"
                )
            max_props = lim.max_custom_properties
            add_event = event_rows.append
            for seq, ev in enumerate(raw_events):
                if type(ev) is not dict:
                    errs.append(f"events[{seq}]: must be an object with a name")
                    continue
                g = ev.get
                name = g("name")
                if type(name) is not str or not name or len(name) > ml:
                    name = _name_slow(name, f"events[{seq}].name", errs, ml)
                screen = g("screen")
                if screen is not None and (type(screen) is not str or len(screen) > ml):
                    screen = _str_slow(screen, f"events[{seq}].screen", errs, ml)
                t = g("timeSec")
                if t is None:
                    t = 0.0
                elif not (type(t) is float and 0.0 <= t <= _MAX_OFFSET):
                    t = _float_slow(t, f"events[{seq}].timeSec", errs, 0.0, _MAX_OFFSET, _OFFSET_RULE)
                props = g("properties")
                if props is None:
                    props_json = pmap = None
                else:
                    pmap = None
                    if type(props) is dict and props:
                        pmap = []  # fast path: strings, numbers, booleans and nulls (dropped) only
                        nulls = False
                        for k, v in props.items():
                            tv = type(v)
                            if tv is str:
                                pmap.append((k, v))
                            elif tv is int:
                                pmap.append((k, str(v)))
                            elif tv is bool:
                                pmap.append((k, "true" if v else "false"))
                            elif tv is float:
                                pmap.append((k, _number_text(v)))
                            elif v is None:
                                nulls = True
                            else:
                                pmap = None
                                break
                        else:
                            props_bytes = _dumps(_without_nulls(props) if nulls else props)
                    # a short JSON text means no string value is over the limit
                    if pmap is None or len(props_bytes) > ml or len(pmap) > max_props:
                        props_json, pmap = _event_props(
                            props, f"events[{seq}].properties", errs, ml, max_props
                        )
                    elif pmap:
                        props_json = props_bytes.decode()
                    else:  # only nulls
                        props_json = pmap = None
                if not _EVENT_ALLOWED.issuperset(ev):
                    errs.extend(
                        f"events[{seq}].{k}: unknown field; allowed: {', '.join(_EVENT_KEYS)}"
                        for k in ev
                        if k not in _EVENT_ALLOWED
                    )
                add_event((seq, name, screen, t, props_json, pmap))

    if errs:
        return None, None, errs

    # derivations
    if total_g is None:
        if resp is not None or unresp is not None:
            # the missing one counts 0, and is stored so: the three then agree, and a re-sent export of this
            # session (all three counts) is stored the same
            resp, unresp = resp or 0, unresp or 0
            total_g = resp + unresp
    elif resp is None:
        if unresp is not None and total_g >= unresp:
            resp = total_g - unresp
    elif unresp is None and total_g >= resp:
        unresp = total_g - resp
    if rage is None and total_g is not None:
        rage = 0
    if has_screens:
        unique_screens = list(dict.fromkeys(screens))
        if total_s is None:
            total_s = len(screens)
    else:
        unique_screens = prop_unique or []
    if uniq_n is None and (has_screens or prop_unique):
        uniq_n = len(unique_screens)
    if not alias:
        alias = derive_alias(uid)
    if dclass is None:
        dclass = derive_device_class(
            platform, width, height, (web_dtype or dtype) if is_web else dtype, model, is_web
        )

    row = (
        sid, uid, uploaded, device_local, verified, started,
        offline, has_video, crashed, duration, total_g, total_s,
        uniq_n, rage, resp, unresp,
        network, identity or None, alias, user_props, uprops, carrier_code, carrier_name,
        os_name if os_name is not None else web_os, app_version, sdk_version, os_version, language, country,
        storage, ram, free_ram, dpi, height, width, dtype if dtype is not None else web_dtype, dclass,
        producer, model, device_id, notif, rooted, platform, country_code, city,
        lon, lat, is_web, browser_name, browser_version, referer, ref_domain, utm,
        utm_map, web_extra, screens, unique_screens, list(dict.fromkeys(map(_second, event_rows))), len(event_rows),
        None if extra is None else _dumps(extra).decode(), received,
    )  # fmt: skip
    return row, event_rows, errs


# --- helpers; each `_*_slow` one runs only for an unusual or wrong value, records the error (if any) and
# returns the usable value or None ---


def _epoch(value: datetime) -> int:
    """Whole seconds since 1970-01-01 UTC; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return _floor(value.timestamp())


# Times outside these bounds are refused: they are typos, and far-future values overflow date arithmetic.
_TS_MIN = 0  # 1970-01-01T00:00:00Z
_TS_MAX = 7_258_118_399  # 2199-12-31T23:59:59Z


def _ts(v: Any, path: str, errs: list[str]) -> int | None:
    seconds = None
    if type(v) is str:
        try:
            seconds = _epoch(_fromiso(v))
        except ValueError:
            pass
    elif isinstance(v, datetime):  # Parquet timestamp columns
        seconds = _epoch(v)
    if seconds is None:
        errs.append(f'{path}: must be a date-time string like "2023-01-16T10:43:47Z" (UTC)')
        return None
    if not _TS_MIN <= seconds <= _TS_MAX:
        errs.append(f"{path}: must be between 1970-01-01T00:00:00Z and 2199-12-31T23:59:59Z")
        return None
    return seconds


def _sid_slow(v: Any, errs: list[str]) -> str | None:
    if v is None:
        errs.append(f"sessionId: required; {_SID_RULE}")
        return None
    t = type(v)
    if t is int or t is float:
        v = str(v)
        if _SID_OK(v):
            return v
    elif t is not str:
        errs.append(f"sessionId: must be a string of {_SID_RULE}")
        return None
    errs.append(f"sessionId: must be {_SID_RULE}")
    return None


def _str_slow(v: Any, path: str, errs: list[str], ml: int) -> str | None:
    t = type(v)
    if t is int or t is float:  # a number sent for a text field: keep its text, e.g. appVersion 1.5 -> "1.5"
        return str(v)
    if t is str:
        errs.append(f"{path}: must be at most {ml} characters (got {len(v)})")
    else:
        errs.append(f"{path}: must be a string")
    return None


def _name_slow(v: Any, path: str, errs: list[str], ml: int) -> str | None:
    if v is None or v == "":
        errs.append(f"{path}: required; a non-empty string")
        return None
    return _str_slow(v, path, errs, ml)


def _quoted(v: Any) -> str:
    """Said after a number's or a boolean's rule when a string came instead: `12.5` is not `"12.5"`."""
    if type(v) is not str:
        return ""
    shown = v if len(v) <= 40 else v[:40] + "…"
    return f" (got the string {orjson.dumps(shown).decode()}; send it unquoted)"


def _int_slow(v: Any, path: str, errs: list[str], lo: int, hi: int = _I64) -> int | None:
    if type(v) is float and v.is_integer():
        v = int(v)
    if type(v) is int and lo <= v <= hi:
        return v
    if type(v) is int and v > hi:
        errs.append(f"{path}: must be at most {hi:,}" + _quoted(v))
    else:
        errs.append((f"{path}: must be an integer ≥ 0" if lo == 0 else f"{path}: must be an integer") + _quoted(v))
    return None


def _float_slow(v: Any, path: str, errs: list[str], lo: float, hi: float, what: str) -> float | None:
    t = type(v)
    if (t is int or t is float) and lo <= v <= hi:
        return float(v)
    if (t is int or t is float) and v > hi and " from " not in what:  # a range in `what` says it already
        errs.append(f"{path}: must be at most {int(hi):,}{_quoted(v)}" if float(hi).is_integer() else f"{path}: must be at most {hi:g}{_quoted(v)}")
    else:
        errs.append(f"{path}: must be {what}{_quoted(v)}")
    return None


def _bool_slow(v: Any, path: str, errs: list[str]) -> bool | None:
    if type(v) is int and (v == 0 or v == 1):
        return v == 1
    errs.append(f"{path}: must be a boolean (true/false, or 1/0){_quoted(v)}")
    return None


def _platform_slow(v: Any, errs: list[str]) -> str | None:
    t = type(v)
    if t is int:
        found = _PLATFORMS.get(v)
    elif t is str:
        found = _PLATFORMS.get(v.strip().lower())
    else:
        found = None
    if found is None:
        errs.append('device.platform: must be "android" or "ios" (or 1 for Android, 2 for iOS)')
    return found


def _str_list(v: Any, path: str, errs: list[str], ml: int, max_items: int) -> list[str]:
    if type(v) is not list:
        errs.append(f"{path}: must be a list of screen names")
        return []
    if len(v) > max_items:
        errs.append(f"{path}: at most {max_items} screens allowed (got {len(v)})")
    out = []
    for i, s in enumerate(v):
        if type(s) is not str or not s or len(s) > ml:
            s = _name_slow(s, f"{path}[{i}]", errs, ml)
        out.append(s)
    return out


def _unknown(
    extra: dict[str, Any] | None,
    section: str,
    obj: dict[str, Any],
    known: frozenset[str],
    errs: list[str],
    ml: int,
) -> dict[str, Any] | None:
    """Keep the unknown keys of property/device/location for `extra` (nulls dropped)."""
    kept = {}
    for k, v in obj.items():
        if k in known or v is None:
            continue
        if type(v) is str and len(v) > ml:
            errs.append(f"{section}.{k}: must be at most {ml} characters (got {len(v)})")
        kept[k] = v
    if not kept:
        return extra
    if extra is None:
        extra = {}
    extra[section] = kept
    return extra


def _custom_props(
    user: dict[str, Any], errs: list[str], ml: int, max_props: int
) -> tuple[str | None, list[tuple[str, str]] | None]:
    """The custom user properties as (JSON text, map entries), or (None, None) when there are none."""
    custom: dict[str, Any] = {}
    entries: list[tuple[str, str]] = []
    for k, v in user.items():
        if v is None or k in _USER_RESERVED:
            continue
        if len(k) > ml:
            errs.append(f"user: a property name must be at most {ml} characters (got {len(k)})")
            continue
        t = type(v)
        if t is str:
            if len(v) > ml:
                errs.append(f"user.{k}: must be at most {ml} characters (got {len(v)})")
                continue
            s = v
        elif t is bool:
            s = "true" if v else "false"
        elif t is int:
            s = str(v)
        elif t is float:
            s = _number_text(v)
        else:
            try:
                s = _dumps(v, option=orjson.OPT_NON_STR_KEYS).decode()
            except TypeError:
                errs.append(f"user.{k}: must be a JSON value")
                continue
        custom[k] = v
        entries.append((k, s))
    if not entries:
        return None, None
    if len(entries) > max_props:
        errs.append(f"user: at most {max_props} custom properties allowed (got {len(entries)})")
    return _dumps(custom, option=orjson.OPT_NON_STR_KEYS).decode(), entries


def _event_props(
    props: Any, path: str, errs: list[str], ml: int, max_props: int
) -> tuple[str | None, list[tuple[str, str]] | None]:
    if type(props) is not dict:
        errs.append(f"{path}: must be an object")
        return None, None
    entries: list[tuple[str, str]] = []
    dropped = False
    for k, v in props.items():
        if len(k) > ml:
            errs.append(f"{path}: a property name must be at most {ml} characters (got {len(k)})")
            continue
        t = type(v)
        if t is str:
            if len(v) > ml:
                errs.append(f"{path}.{k}: must be at most {ml} characters (got {len(v)})")
            entries.append((k, v))
        elif t is int:
            entries.append((k, str(v)))
        elif t is float:
            entries.append((k, _number_text(v)))
        elif t is bool:
            entries.append((k, "true" if v else "false"))
        elif v is None:
            dropped = True
        else:
            errs.append(f"{path}.{k}: must be a string, number or boolean")
    if len(entries) > max_props:  # a null is no property (as on the quick path)
        errs.append(f"{path}: at most {max_props} properties allowed (got {len(entries)})")
    if not entries:
        return None, None
    return _dumps(_without_nulls(props) if dropped else props).decode(), entries


def _utm(raw: Any, errs: list[str], ml: int) -> tuple[str | None, list[tuple[str, str]] | None]:
    if type(raw) is not dict:
        errs.append("web.utm: must be an object of text values")
        return None, None
    clean: dict[str, str] = {}
    for k, v in raw.items():
        if v is None:
            continue
        if len(k) > ml:
            errs.append(f"web.utm: a parameter name must be at most {ml} characters (got {len(k)})")
            continue
        if type(v) is not str or len(v) > ml:
            v = _str_slow(v, f"web.utm.{k}", errs, ml)
            if v is None:
                continue
        clean[k] = v
    if not clean:
        return None, None
    return _dumps(clean).decode(), list(clean.items())


def _reported_id(doc: Any) -> str | None:
    sid = doc.get("sessionId") if type(doc) is dict else None
    t = type(sid)
    if t is str:
        return sid
    if t is int or t is float:
        return str(sid)
    return None


def _capped(errs: list[str]) -> list[str]:
    if len(errs) <= _MAX_ERRORS:
        return errs
    return errs[:_MAX_ERRORS] + [f"... and {len(errs) - _MAX_ERRORS} more errors"]
