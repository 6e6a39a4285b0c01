"""Erasing data: users' on request (GDPR art. 17, CCPA), carried out by the operator with `sessionscope erase`,
and a whole app's with `sessionscope apps delete`.

Users are named by uxcamuserid or by a user identity (`kUXCam_UserIdentity`) one of their sessions carries;
each is erased whole: every session of theirs, its events and its replay (the store's row and the file).
Other users keep their session numbers (a user's numbers count only its own sessions), and nothing else of
the app changes. What the rows' deletion means for the engine's files is in docs/operations.md.

Replay files are found where the server reads them: `videos/<appid>/` in the data directory (videos.py), so
the command must run with the server's `SESSIONSCOPE_DATA_DIR`. A recorded replay whose file is not there is
reported (`missing`), never passed over in silence.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .settings import Settings
from .store import Store
from .store.base import Erased
from .videos import session_video_files, upload_files, video_folder


@dataclass
class Erasure:
    erased: Erased
    removed: list[Path] = field(default_factory=list)  # replay files removed (or, in a dry run, to remove)
    missing: list[str] = field(default_factory=list)  # sessions with a recorded replay but no file here


class FilesNotRemoved(Exception):
    """A replay file could not be removed: the store's rows were left as they were (run the command again
    once the cause is fixed); `removed` were removed before it."""

    def __init__(self, path: Path, reason: str, removed: list[Path]) -> None:
        super().__init__(f"cannot remove {path}: {reason}")
        self.removed = removed


def replay_files(settings: Settings, app_id: str, session_ids: list[str]) -> list[Path]:
    """The files of these sessions' replays in this data directory, with the temporary files of uploads cut
    short (a server stopped mid-upload leaves one)."""
    files: list[Path] = []
    for sid in session_ids:
        files += [path for path in session_video_files(settings, app_id, sid) if path.is_file()]
        files += upload_files(settings, app_id, sid)
    return files


def erase_users(
    store: Store, settings: Settings, app_id: str, users: list[str], identities: list[str], *, dry_run: bool = False
) -> Erasure:
    """Erase the users (see the module's text). The files go just before the store commits the rows'
    deletion: a failure leaves every row, and what running it again finds and finishes."""
    result = Erasure(Erased([], 0, 0, [], []))

    def remove_files(erased: Erased) -> None:
        for path in replay_files(settings, app_id, erased.session_ids):
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise FilesNotRemoved(path, exc.strerror or str(exc), result.removed) from exc
            result.removed.append(path)

    result.erased = store.erase_users(app_id, sorted(set(users)), sorted(set(identities)), dry_run=dry_run,
                                      before_commit=remove_files)
    if dry_run:
        result.removed = replay_files(settings, app_id, result.erased.session_ids)
    on_disk = {path.stem for path in result.removed if not path.name.startswith(".")}
    result.missing = [sid for sid in result.erased.videos if sid not in on_disk]
    return result


@dataclass(frozen=True)
class AppContents:
    """What an app holds: its rows, and the files of its replays in this data directory."""

    name: str
    sessions: int
    events: int
    videos: int
    files: int


def app_contents(store: Store, settings: Settings, app_id: str) -> AppContents | None:
    """What deleting the app would remove; None when the store has no such app."""
    from .apps import count_app_rows, list_apps

    found = [a for a in list_apps(store) if a.appid == app_id]
    if not found:
        return None
    counts = [count_app_rows(store, table, app_id) for table in ("sessions", "events", "videos")]
    folder = video_folder(settings, app_id)
    files = sum(1 for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else 0
    return AppContents(found[0].name, *counts, files)


def delete_app(store: Store, settings: Settings, app_id: str) -> None:
    """Delete the app: its replay folder first, then every row it owns (the app's row last), so a deletion
    stopped part way leaves the app, and running it again finishes."""
    folder = video_folder(settings, app_id)
    if folder.exists():
        shutil.rmtree(folder)
    store.remove_app(app_id)
