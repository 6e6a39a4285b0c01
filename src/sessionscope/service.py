"""Request orchestration: validate -> plan -> render -> execute -> shape. No web framework here."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from . import shape, signing
from .catalog import EVENTS, SESSIONS, USERS, Resource
from .ingest.pool import ValidationPool
from .ingest.writer import GroupWriter
from .query.deep import narrowed
from .query.plan import ListPlan, plan_list
from .query.render import bound, render_count, render_list
from .query.spec import ListSpec
from .query.validate import parse_flag, parse_list
from .settings import Settings
from .store import Store

NO_VIDEO = "No video available for this session"


def session_url(settings: Settings, appid: str, session_id: str) -> str:
    return f"{settings.public_url.rstrip('/')}/app/{appid}/sessions/list/1/{session_id}"


def video_key(store: Store, secret: bytes, appid: str) -> str:
    """What a video link carries of the app's data access key: rotating the key ends the links it handed out
    (api/video.py compares), as it ends dashboard logins."""
    from .apps import dashboard_identity

    identity = dashboard_identity(store, appid)
    return signing.key_fingerprint(secret, identity[1] if identity else "")


def video_link(settings: Settings, secret: bytes, appid: str, session_id: str, now: datetime, key: str) -> str:
    expires = int(now.timestamp()) + settings.video_link_ttl_seconds
    token = signing.sign(secret, "video", {"a": appid, "s": session_id, "k": key}, expires)
    return f"{settings.public_url.rstrip('/')}/v2/video/{token}"


def list_sessions(
    store: Store,
    settings: Settings,
    secret: bytes,
    appid: str,
    params: Mapping[str, Any],
    now: datetime,
    resource: Resource = SESSIONS,
) -> dict[str, Any]:
    """GET /v2/session: one page of sessions, newest upload first (the dashboard may list them from a
    wider catalogue, catalog.sessions_for)."""
    spec, rows, has_next = _page(store, appid, resource, shape.SESSION_COLUMNS, params, now)
    videos: set[str] = set()
    with_video = parse_flag(params, "with_video")
    if with_video and rows:
        ids = [shape.column(r, "session_id") for r in rows]
        videos = set(store.videos_for(appid, ids))
    key = video_key(store, secret, appid) if videos else ""
    data = []
    for row in rows:
        sid = shape.column(row, "session_id")
        video = None
        if with_video:
            video = video_link(settings, secret, appid, sid, now, key) if sid in videos else NO_VIDEO
        data.append(shape.session_doc(row, url=session_url(settings, appid, sid), video=video))
    return _paged(spec, data, has_next)


def user_url(settings: Settings, appid: str, uxcamuserid: str) -> str:
    # a user id is any text: percent-encoded whole ('/' included), as the dashboard's route reads it back
    return f"{settings.public_url.rstrip('/')}/app/{appid}/users/list/1/{quote(uxcamuserid, safe='')}"


def _page(
    store: Store, appid: str, resource: Resource, columns: tuple[str, ...], params: Mapping[str, Any], now: datetime
) -> tuple[ListSpec, list[tuple[Any, ...]], bool]:
    """validate -> plan -> render -> execute: one page of a resource's rows, and whether more follow."""
    spec = parse_list(resource, params, now)
    plan = plan_list(appid, spec, columns)
    narrow = narrowed(plan, store.dialect.top_n_rows, lambda p: _count(store, p))
    rows = store.query(*render_list(store.dialect, narrow))
    if narrow is not plan and len(rows) < (plan.limit or 0):
        # the counts saw enough rows after `keys_from`, the page did not: a write came between them (a re-sent
        # session moved, say). Read the page again from the whole window, consistent with a single state
        rows = store.query(*render_list(store.dialect, plan))
    return spec, rows[: spec.page_size], len(rows) > spec.page_size


def _count(store: Store, plan: ListPlan) -> int:
    sql, values = render_count(store.dialect, plan)
    return int(store.query(sql, values)[0][0])


def _paged(spec: ListSpec, data: list[dict[str, Any]], has_next: bool) -> dict[str, Any]:
    return {
        "success": True,
        "data": data,
        "pagination": {"current": spec.page, "next": spec.page + 1 if has_next else None, "total": len(data)},
    }


def list_users(
    store: Store, settings: Settings, appid: str, params: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """GET /v2/user: one page of users (each with its latest matching session's details and its totals over
    the window), the most recently seen first."""
    spec, rows, has_next = _page(store, appid, USERS, shape.USER_COLUMNS, params, now)
    data = [
        shape.user_doc(r, url=user_url(settings, appid, shape.user_column(r, "uxcamuserid"))) for r in rows
    ]
    return _paged(spec, data, has_next)


def list_events(
    store: Store, settings: Settings, appid: str, params: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """GET /v2/event: one page of events, newest upload first, a session's events in their order."""
    spec, rows, has_next = _page(store, appid, EVENTS, shape.EVENT_COLUMNS, params, now)
    data = [
        shape.event_doc(r, appid=appid, url=session_url(settings, appid, shape.event_column(r, "session_id")))
        for r in rows
    ]
    return _paged(spec, data, has_next)


def has_session(store: Store, appid: str, session_id: str) -> bool:
    """Whether the app holds a session with this id."""
    sql = "SELECT count(*) FROM sessions WHERE app_id = {a} AND session_id = {s}"
    return bool(store.query(*bound(store.dialect, sql, a=(appid, "String"), s=(session_id, "String")))[0][0])


def request_now() -> datetime:
    """The request's time, naive UTC, to the second (the only place the query path reads the clock)."""
    return datetime.utcfromtimestamp(int(time.time()))


def ingest_batch(
    writer: GroupWriter,
    validator: ValidationPool,
    settings: Settings,
    appid: str,
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    now: datetime,
) -> dict[str, Any]:
    """POST /v2/ingest/sessions: parse, validate each record (in a worker process), then one durable write
    of the valid ones (the writer thread commits it, possibly together with other requests' batches)."""
    from .ingest import Limits

    batch = validator.validate(
        appid, body, content_type, content_encoding, now, Limits.from_settings(settings),
        settings.max_body_bytes, settings.max_batch_sessions,
    )
    writer.write(appid, batch.sessions, batch.events)
    return {"success": True, "accepted": batch.accepted, "rejected": batch.rejected}
