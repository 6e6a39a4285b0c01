"""One session with everything its dashboard page shows: the list document, its screens in order,
its events, and a signed link to its replay video. No web framework here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from . import shape
from .catalog import SESSIONS
from .query.plan import plan_list
from .query.render import SqlBuilder, render_list
from .query.validate import parse_list
from .service import NO_VIDEO, session_url, video_key, video_link
from .settings import Settings
from .store import Store

# A session's page is found by id whatever its age: the widest window the validator accepts.
ALL_TIME = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": "1900-01-01", "upper": "2999-12-31"},
}
_COLUMNS = (*shape.SESSION_COLUMNS, "screens")


@dataclass(frozen=True)
class Event:
    name: str
    screen: str | None
    time_sec: float | None
    at: datetime | None
    properties: dict[str, Any]


@dataclass(frozen=True)
class SessionDetail:
    doc: dict[str, Any]  # the session as GET /v2/session returns it (with_video=true)
    screens: list[str]  # in visiting order
    events: list[Event]  # by their time in the session (recorded order among equal times; untimed last)
    video_url: str | None  # a signed /v2/video link (absolute, on public_url); None when there is no video


def _events(store: Store, appid: str, session_id: str) -> list[Event]:
    b = SqlBuilder(store.dialect)
    sql = (
        "SELECT name, screen, time_sec, event_at, props FROM events "
        f"WHERE app_id = {b.bind(appid, 'String')} AND session_id = {b.bind(session_id, 'String')} "
        "ORDER BY seq"
    )
    out = []
    for name, screen, time_sec, at, props in store.query(sql, b.params()):  # type: ignore[arg-type]
        properties = orjson.loads(props) if props else {}
        out.append(Event(name, screen, time_sec, at, properties if isinstance(properties, dict) else {}))
    # a timeline: an SDK may send a session's events in any order (the list API keeps the recorded one)
    return sorted(out, key=lambda e: (e.time_sec is None, e.time_sec or 0.0))


def session_detail(
    store: Store, settings: Settings, secret: bytes, appid: str, session_id: str, now: datetime
) -> SessionDetail | None:
    """The session `session_id` of app `appid`, or None when that app has no such session."""
    params = {"filters": [ALL_TIME, {"attribute": "session_id", "operator": "equal", "value": session_id}]}
    spec = parse_list(SESSIONS, params, now)
    sql, values = render_list(store.dialect, plan_list(appid, spec, _COLUMNS))
    rows = store.query(sql, values)
    if not rows:
        return None
    row = rows[0]
    video = None
    if session_id in store.videos_for(appid, [session_id]):
        video = video_link(settings, secret, appid, session_id, now, video_key(store, secret, appid))
    doc = shape.session_doc(row, url=session_url(settings, appid, session_id), video=video or NO_VIDEO)
    screens = [s for s in (row[len(shape.SESSION_COLUMNS)] or []) if s is not None]
    return SessionDetail(doc, screens, _events(store, appid, session_id), video)
