"""Replays for the demo: a playable (synthetic) video for the newest demo sessions recorded with video, so
that a newcomer's first look at a session page shows the replay player at work."""

from __future__ import annotations

from ..query.render import bound
from ..settings import Settings
from ..store import Store
from ..videos import made_video_folder, video_file
from .replay_video import make_mp4

REPLAYS = 25  # how many of the newest sessions with video get one (one video, about 300 KB, shared)


def attach_replays(store: Store, settings: Settings, app_id: str, count: int = REPLAYS) -> int:
    """Store a replay for up to `count` of the app's newest sessions that say they have video; how many."""
    sql = ("SELECT session_id FROM sessions WHERE app_id = {a} AND has_video "
           f"ORDER BY uploaded_at DESC, session_id LIMIT {int(count)}")
    chosen = [r[0] for r in store.query(*bound(store.dialect, sql, a=(app_id, "String")))]
    if not chosen:
        return 0
    video = make_mp4()
    made_video_folder(settings, app_id)
    for session_id in chosen:
        path = video_file(settings, app_id, session_id, "mp4")
        path.write_bytes(video)
        store.put_video(app_id, session_id, str(path), "video/mp4", len(video))
    return len(chosen)
