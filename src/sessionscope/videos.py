"""Where uploaded replay videos are kept: `<data_dir>/videos/<appid>/<sessionId>.<mp4|webm>`."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from .settings import Settings

# the content types an upload may have, and the extension its file is saved with
VIDEO_TYPES = {"video/mp4": "mp4", "video/webm": "webm"}


def video_folder(settings: Settings, app_id: str) -> Path:
    return settings.data_dir / "videos" / app_id


def video_file(settings: Settings, app_id: str, session_id: str, ext: str) -> Path:
    """Where a session's replay of one type (`mp4`, `webm`) is saved."""
    return video_folder(settings, app_id) / f"{session_id}.{ext}"


def session_video_files(settings: Settings, app_id: str, session_id: str) -> list[Path]:
    """Every path a session's replay may be saved at, one per type."""
    return [video_file(settings, app_id, session_id, ext) for ext in VIDEO_TYPES.values()]


# An upload is written to `.{sessionId}.{32 hex digits}.part`, then renamed into place.
_PART = re.compile(r"[0-9a-f]{32}\.part")


def new_upload_file(settings: Settings, app_id: str, session_id: str) -> Path:
    """A temporary file for one upload of a session's replay, its own."""
    return video_folder(settings, app_id) / f".{session_id}.{uuid.uuid4().hex}.part"


def upload_files(settings: Settings, app_id: str, session_id: str) -> list[Path]:
    """The temporary files of this session's uploads (one cut short leaves its file). Matched exactly: a session
    id may hold dots, and `.{id}.*.part` also matches the uploads of session `{id}.x`."""
    folder = video_folder(settings, app_id)
    return sorted(p for p in folder.glob(f".{session_id}.*.part") if _PART.fullmatch(p.name[len(session_id) + 2:]))


def made_video_folder(settings: Settings, app_id: str) -> Path:
    """The app's video folder, created private (like the data directory) with `videos/` when missing."""
    folder = video_folder(settings, app_id)
    for directory in (folder.parent, folder):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder
