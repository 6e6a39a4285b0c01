"""Signed, expiring video downloads with HTTP Range support."""

from __future__ import annotations

import hmac
import os
import time
from pathlib import Path

from fastapi import APIRouter
from starlette.datastructures import Headers
from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable
from starlette.types import Receive, Scope, Send

from .. import service, signing
from ..errors import ApiError
from ..videos import video_file
from .deps import SecretDep, SettingsDep, StoreDep

router = APIRouter(prefix="/v2", tags=["video"])


class ReplayFile(FileResponse):
    """A file answer that ignores a Range header it cannot read (RFC 9110 §14.2: `bytes=100-10`, `items=0-5`)
    and sends the whole file, where Starlette answers a plain-text 400. A range past the end still gets 416."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = Headers(scope=scope).get("range")
        if wanted is not None:
            try:
                self._parse_range_header(wanted, os.stat(self.path).st_size)
            except MalformedRangeHeader:
                scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"range"]}
            except (RangeNotSatisfiable, OSError):
                pass  # answered by the file response: 416, or the file gone
        await super().__call__(scope, receive, send)


@router.head("/video/{token}", include_in_schema=False)  # players and download tools probe a link first
@router.get("/video/{token}", summary="Download a session's replay video (signed link from with_video=true)")
def download_video(token: str, store: StoreDep, secret: SecretDep, settings: SettingsDep) -> ReplayFile:
    payload = signing.verify(secret, "video", token, int(time.time()))
    if payload is None:
        raise ApiError(403, "This video link is invalid or has expired; request the session list with with_video=true for a new one.")
    appid, session_id = payload.get("a"), payload.get("s")
    key = service.video_key(store, secret, str(appid))
    if not hmac.compare_digest(str(payload.get("k", "")).encode(), key.encode()):  # the key was rotated since
        raise ApiError(403, "This video link was issued under a data access key that has been rotated; request the "
                            "session list with with_video=true for a new one.")
    found = store.videos_for(str(appid), [str(session_id)])
    if str(session_id) not in found:
        raise ApiError(404, "No video is stored for this session.")
    recorded, content_type, _size = found[str(session_id)]
    # in this server's data directory, whatever directory the upload's server had: a data directory restored
    # or moved elsewhere, or a store copied to another engine beside it, keeps its replays
    path = video_file(settings, str(appid), str(session_id), Path(recorded).suffix.lstrip("."))
    if not path.is_file():
        raise ApiError(404, "No video is stored for this session.")
    return ReplayFile(path, media_type=content_type, filename=path.name)
