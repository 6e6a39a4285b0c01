"""Where uploaded replay videos are kept: `<data_dir>/videos/<appid>/<sessionId>.<mp4|webm>`."""

from __future__ import annotations

from pathlib import Path

from .settings import Settings

# the content types an upload may have, and the extension its file is saved with
VIDEO_TYPES = {"video/mp4": "mp4", "video/webm": "webm"}


def video_folder(settings: Settings, app_id: str) -> Path:
    return settings.data_dir / "videos" / app_id


def session_video_files(settings: Settings, app_id: str, session_id: str) -> list[Path]:
    """Every path a session's replay may be saved at, one per type."""
    folder = video_folder(settings, app_id)
    return [folder / f"{session_id}.{ext}" for ext in VIDEO_TYPES.values()]


def made_video_folder(settings: Settings, app_id: str) -> Path:
    """The app's video folder, created private (like the data directory) with `videos/` when missing."""
    folder = video_folder(settings, app_id)
    for directory in (folder.parent, folder):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder
