"""Erasing users' data: a person's request to have their data deleted (GDPR art. 17, CCPA), carried out by
the operator with `sessionscope erase`.

Users are named by uxcamuserid or by a user identity (`kUXCam_UserIdentity`) one of their sessions carries;
each is erased whole: every session of theirs, its events and its replay (the store's row and the file).
Other users keep their session numbers (a user's numbers count only its own sessions), and nothing else of
the app changes. What the rows' deletion means for the engine's files is in docs/operations.md.
"""

from __future__ import annotations

from pathlib import Path

from .settings import Settings
from .store import Store
from .store.base import Erased
from .videos import session_video_files


def video_files(settings: Settings, app_id: str, erased: Erased) -> list[Path]:
    """The replay files of the erased sessions: those the store records, and any at the upload's own path
    (an upload whose row was never written, the store having refused it)."""
    files = {Path(p) for p in erased.videos}
    for sid in erased.session_ids:
        files.update(session_video_files(settings, app_id, sid))
    return sorted(files)


def erase_users(
    store: Store, settings: Settings, app_id: str, users: list[str], identities: list[str], *, dry_run: bool = False
) -> Erased:
    """Erase the users (see the module's text); the files go just before the store commits the rows'
    deletion, so a failure at any point leaves what running it again finds and finishes."""

    def remove_files(erased: Erased) -> None:
        for path in video_files(settings, app_id, erased):
            path.unlink(missing_ok=True)

    return store.erase_users(app_id, sorted(set(users)), sorted(set(identities)), dry_run=dry_run,
                             before_commit=remove_files)
