"""Ingestion: batch session documents, and replay video uploads."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from .. import service
from ..errors import ApiError, StoreUnavailable, bad_request
from ..videos import VIDEO_TYPES, made_video_folder, new_upload_file, session_video_files, video_file
from .deps import IngestAppDep, SettingsDep, StoreDep
from .responses import JSON

router = APIRouter(prefix="/v2/ingest", tags=["ingestion"])
log = logging.getLogger("sessionscope.http")

SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


async def read_limited(request: Request, limit: int, what: str) -> bytes:
    """The request body, refusing (413) as soon as it grows past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"{what} is {declared} bytes; the limit is {limit} bytes", param="body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"{what} is over the limit of {limit} bytes", param="body")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/sessions", response_class=JSON, summary="Ingest a batch of sessions (JSON array or NDJSON, gzip allowed)")
async def ingest_sessions(request: Request, appid: IngestAppDep, settings: SettingsDep) -> JSON:
    body = await read_limited(request, settings.max_body_bytes, "the body")
    result = await run_in_threadpool(
        service.ingest_batch,
        request.app.state.writer,
        request.app.state.validator,
        settings,
        appid,
        body,
        request.headers.get("content-type"),
        request.headers.get("content-encoding"),
        service.request_now(),
    )
    request.app.state.metrics.add("ingested_sessions_total", result["accepted"])
    return JSON(result)


# a streamed video checks the disk again after every this many bytes (the first check counts what it declared)
ROOM_CHECK_BYTES = 8 * 1024 * 1024


def check_room(folder: FilePath, coming: int, reserve: int) -> None:
    """Refuse (503) a video that would leave less than `reserve` bytes free on `folder`'s disk: sessions,
    small and what the store exists for, keep the room they need when replays fill a disk."""
    if reserve <= 0:
        return
    free = shutil.disk_usage(folder).free
    if free - coming < reserve:
        log.warning(
            "video refused: %d bytes free on %s, %d more coming, reserve %d (SESSIONSCOPE_VIDEO_MIN_FREE_BYTES)",
            free, folder, coming, reserve,
        )
        raise ApiError(
            503,
            "no room for replay videos now: the server keeps its remaining disk space for sessions; "
            "try again later",
            headers={"Retry-After": "300"},
        )


class _KeyedLocks:
    """An asyncio lock per key, dropped when no request holds or waits for it. (One server process: API
    processes sharing a data directory in front of one ClickHouse do not see each other's.)"""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: tuple[str, str]) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


_SESSION_UPLOADS = _KeyedLocks()


def _no_session(session_id: str) -> ApiError:
    return ApiError(404, f"no session {session_id} in this app; ingest the session before its video")


@router.put("/sessions/{session_id}/video", response_class=JSON, summary="Upload a session's replay video")
async def upload_video(
    request: Request,
    appid: IngestAppDep,
    settings: SettingsDep,
    store: StoreDep,
    session_id: Annotated[str, Path(description="The session's id")],
) -> JSON:
    if not SESSION_ID_RE.match(session_id):
        raise bad_request("sessionId must be 1-64 characters of A-Z a-z 0-9 _ . : -", param="sessionId")
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    ext = VIDEO_TYPES.get(content_type)
    if ext is None:
        raise bad_request(f"Content-Type must be one of {', '.join(VIDEO_TYPES)}, got {content_type or 'none'!r}", param="Content-Type")
    # before reading the body: a video for no session is refused without writing it to disk first
    if not await run_in_threadpool(service.has_session, store, appid, session_id):
        raise _no_session(session_id)
    final = video_file(settings, appid, session_id, ext)
    temp = new_upload_file(settings, appid, session_id)
    declared = request.headers.get("content-length", "")
    checked = int(declared) if declared.isdigit() else 0  # bytes the last check of the disk counted
    check_room(settings.data_dir, checked, settings.video_min_free_bytes)
    size = 0
    try:
        try:
            made_video_folder(settings, appid)
            with open(temp, "wb") as out:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > settings.max_video_bytes:
                        raise ApiError(413, f"the video is over the limit of {settings.max_video_bytes} bytes", param="body")
                    if size > checked + ROOM_CHECK_BYTES:  # longer than declared, or declared nothing
                        check_room(settings.data_dir, 0, settings.video_min_free_bytes)
                        checked = size
                    out.write(chunk)
                out.flush()
                await run_in_threadpool(os.fsync, out.fileno())  # seconds for a large file: not on the loop
            if size == 0:
                raise bad_request("the video body is empty", param="body")
        except OSError as exc:  # disk full or read-only: the store cannot take it now
            raise StoreUnavailable(f"cannot write the video: {exc.strerror}") from exc
        # From here one upload of a session at a time: two in different formats, each putting its file in
        # place, recording it and removing the other format's, could otherwise remove each other's files.
        async with _SESSION_UPLOADS.hold((appid, session_id)):
            try:
                os.replace(temp, final)
            except OSError as exc:
                raise StoreUnavailable(f"cannot write the video: {exc.strerror}") from exc
            stored = await run_in_threadpool(store.put_video, appid, session_id, str(final), content_type, size)
            if not stored:
                final.unlink(missing_ok=True)
                raise _no_session(session_id)
            for other in session_video_files(settings, appid, session_id):  # a replay sent again in the other
                if other != final:                                          # format replaces it
                    other.unlink(missing_ok=True)
    finally:
        if temp.exists():
            temp.unlink()
    return JSON({"success": True, "sessionId": session_id, "bytes": size, "contentType": content_type})
