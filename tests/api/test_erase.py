"""`sessionscope erase`: a user's data erased on request, on both engines, checked through the API.

An app is loaded with generated sessions (and a twin app with the same ones), two of its users are erased
(one named by uxcamuserid, one by a user identity), and every answer is compared with what the API gave
before, less those users' sessions: lists row for row (other users keep their session numbers), the
analytics counts recomputed from the remaining rows, events, users, replay files and links, the twin app.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import fmean

import httpx
import pytest

from sessionscope.demo.replay_video import make_mp4
from support.data import recent_sessions
from support.engines import store_url
from support.server import Creds, Server, cli

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
WINDOW = {"attribute": "date_range", "operator": "between_dates", "value": {"lower": "2000-01-01", "upper": "2099-12-31"}}
FILTERS = json.dumps([WINDOW])


def pages(client: httpx.Client, creds: Creds, path: str, **params: str) -> list[dict]:
    rows: list[dict] = []
    page = 1
    while True:
        r = client.get(path, params={"page": page, "page_size": 500, "filters": FILTERS, **params},
                       headers=creds.read_headers)
        assert r.status_code == 200, r.text
        rows += r.json()["data"]
        if r.json()["pagination"]["next"] is None:
            return rows
        page += 1


def sessions(client: httpx.Client, creds: Creds, **params: str) -> dict[str, dict]:
    return {row["sessionId"]: row for row in pages(client, creds, "/v2/session", **params)}


def user_of(row: dict) -> str:
    return row["user"]["uxcamuserid"]


@dataclass
class Ctx:
    server: Server
    client: httpx.Client
    a: Creds
    b: Creds
    docs: dict[str, dict]
    before_a: dict[str, dict]
    before_b: dict[str, dict]
    events_before: list[dict]
    after_dry_run: dict[str, dict]
    erased_users: set[str]
    erased_ids: set[str]
    erased_video: str  # a session of an erased user with a replay
    kept_video: str  # one of a kept user
    links: dict[str, str]  # signed replay links taken before the erasure
    dry: dict
    done: dict


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory, engine: str):  # type: ignore[no-untyped-def]
    data_dir = tmp_path_factory.mktemp(f"erase-{engine}")
    server = Server(data_dir=data_dir, store_url=store_url(engine, data_dir))
    a, b = server.create_app("erase-a"), server.create_app("erase-b")
    docs = list(recent_sessions(400, days=10, seed=23, now=NOW))
    server.start()
    client = server.client()
    for creds in (a, b):
        for i in range(0, len(docs), 100):
            r = client.post("/v2/ingest/sessions", json=docs[i:i + 100], headers=creds.ingest_headers)
            assert r.status_code == 200 and r.json()["accepted"] == len(docs[i:i + 100]), r.text
    before_a = sessions(client, a)
    assert len(before_a) == len(docs)
    # the user with the most sessions, by id; another, by the identity one of its sessions carries
    counts = Counter(user_of(row) for row in before_a.values())
    by_id = counts.most_common(1)[0][0]
    by_identity_row = next(row for row in before_a.values()
                           if user_of(row) != by_id and counts[user_of(row)] > 1 and row["user"].get("kUXCam_UserIdentity"))
    identity = by_identity_row["user"]["kUXCam_UserIdentity"]
    erased_users = {by_id, user_of(by_identity_row)}
    erased_ids = {sid for sid, row in before_a.items() if user_of(row) in erased_users}
    erased_video = min(erased_ids)
    kept_video = min(sid for sid, row in before_a.items() if user_of(row) not in erased_users)
    for sid in (erased_video, kept_video):
        r = client.put(f"/v2/ingest/sessions/{sid}/video", content=make_mp4(),
                       headers={**a.ingest_headers, "Content-Type": "video/mp4"})
        assert r.status_code == 200, r.text
    before_a = sessions(client, a)
    links = {sid: sessions(client, a, with_video="1")[sid]["video"] for sid in (erased_video, kept_video)}
    before_b = sessions(client, b)
    events_before = pages(client, a, "/v2/event")
    server.stop()

    args = ("erase", "--app", a.appid, "--user", by_id, "--identity", identity, "--json")
    dry = json.loads(cli(server.env, *args, "--dry-run").stdout)
    server.start()
    after_dry_run = sessions(client, a)
    server.stop()
    done = json.loads(cli(server.env, *args).stdout)
    server.start()
    yield Ctx(server, client, a, b, {d["sessionId"]: d for d in docs}, before_a, before_b, events_before,
              after_dry_run, erased_users, erased_ids, erased_video, kept_video, links, dry, done)
    client.close()
    server.stop()


def test_the_report_counts_what_was_stored(ctx: Ctx) -> None:
    events = sum(1 for e in ctx.events_before if e["sessionProperty"]["sessionId"] in ctx.erased_ids)
    assert events > 0
    want = {"appid": ctx.a.appid, "users": sorted(ctx.erased_users), "sessions": len(ctx.erased_ids),
            "events": events, "videos": 1, "video_files": 1, "videos_not_found": []}
    assert ctx.done == {**want, "dry_run": False}
    assert ctx.dry == {**want, "dry_run": True}


def test_a_dry_run_changes_nothing(ctx: Ctx) -> None:
    assert ctx.after_dry_run == ctx.before_a


def test_only_the_erased_users_sessions_are_gone(ctx: Ctx) -> None:
    after = sessions(ctx.client, ctx.a)
    kept = {sid: row for sid, row in ctx.before_a.items() if sid not in ctx.erased_ids}
    assert len(kept) == len(ctx.before_a) - len(ctx.erased_ids) > 0
    assert after == kept  # every other row as it was, its sessionNumber included


def test_analytics_count_the_remaining_sessions(ctx: Ctx) -> None:
    kept = [row for sid, row in ctx.before_a.items() if sid not in ctx.erased_ids]
    r = ctx.client.get("/v2/session/analytics", params={"filters": FILTERS}, headers=ctx.a.read_headers)
    assert r.status_code == 200, r.text
    row = r.json()["data"][0]
    assert row["session_count"] == len(kept)
    assert row["session_unique_user_count"] == len({user_of(s) for s in kept})
    assert row["session_new_users_count"] == len({user_of(s) for s in kept if s["sessionNumber"] == 1})
    assert row["avg_session_duration"] == pytest.approx(fmean(s["property"]["durationSec"] for s in kept), rel=1e-12)


def test_their_events_and_users_are_gone(ctx: Ctx) -> None:
    want = [e for e in ctx.events_before if e["sessionProperty"]["sessionId"] not in ctx.erased_ids]
    assert pages(ctx.client, ctx.a, "/v2/event") == want
    users = {u["uxcamUserId"] for u in pages(ctx.client, ctx.a, "/v2/user")}
    assert users == {user_of(row) for sid, row in ctx.before_a.items() if sid not in ctx.erased_ids}
    assert not users & ctx.erased_users


def test_their_replays_are_gone_from_disk_and_links(ctx: Ctx) -> None:
    folder = Path(ctx.server.data_dir) / "videos" / ctx.a.appid
    assert not (folder / f"{ctx.erased_video}.mp4").exists()
    assert ctx.client.get(ctx.links[ctx.erased_video]).status_code == 404
    kept = ctx.client.get(ctx.links[ctx.kept_video])
    assert kept.status_code == 200 and kept.content == make_mp4()
    assert (folder / f"{ctx.kept_video}.mp4").exists()


def test_the_other_app_keeps_the_same_users(ctx: Ctx) -> None:
    assert sessions(ctx.client, ctx.b) == ctx.before_b


def test_an_erased_session_sent_again_is_stored_afresh(ctx: Ctx) -> None:
    sid = min(ctx.erased_ids - {ctx.erased_video})
    r = ctx.client.post("/v2/ingest/sessions", json=[ctx.docs[sid]], headers=ctx.a.ingest_headers)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    row = sessions(ctx.client, ctx.a)[sid]
    assert row["sessionNumber"] == 1  # its user's only session now
    assert row["property"]["hasVideo"] is False
    assert {k: v for k, v in row.items() if k != "sessionNumber"} == {
        k: v for k, v in ctx.before_a[sid].items() if k != "sessionNumber"}


def test_command_line_errors(tmp_path: Path) -> None:
    server = Server(data_dir=tmp_path, store_url=store_url("duckdb", tmp_path))
    a = server.create_app("erase-cli")
    none = cli(server.env, "erase", "--app", a.appid, check=False)
    assert none.returncode == 1 and "--user UXCAMUSERID or --identity IDENTITY" in none.stderr
    unknown = cli(server.env, "erase", "--app", "0" * 24, "--user", "u", check=False)
    assert unknown.returncode == 1 and f"no app with id {'0' * 24}" in unknown.stderr
    nothing = cli(server.env, "erase", "--app", a.appid, "--user", "nobody")
    assert nothing.stdout.strip() == f"no session of these users is stored in app {a.appid}: nothing to erase"


def _one_user_with_a_replay(tmp_path: Path) -> tuple[Server, Creds, list[str]]:
    """A stopped server's store holding one user's three sessions, the first with a replay."""
    server = Server(data_dir=tmp_path / "data", store_url=store_url("duckdb", tmp_path / "data"))
    server.data_dir.mkdir()
    a = server.create_app("erase-files")
    docs = [{"sessionId": f"f-{i}", "property": {"uploadedServerTime": (NOW - timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ")},
             "user": {"uxcamuserid": "the-user"}, "device": {"platform": "ios"}} for i in range(3)]
    server.start()
    with server.client() as client:
        assert client.post("/v2/ingest/sessions", json=docs, headers=a.ingest_headers).json()["accepted"] == 3
        r = client.put("/v2/ingest/sessions/f-0/video", content=make_mp4(), headers={**a.ingest_headers, "Content-Type": "video/mp4"})
        assert r.status_code == 200, r.text
    server.stop()
    return server, a, [d["sessionId"] for d in docs]


def test_replay_files_are_removed_where_the_server_reads_them(tmp_path: Path) -> None:
    """Run with another data directory than the server's, the command finds no file and says so (with the
    folder it looked in) instead of reporting the replay erased; an upload cut short (its .part file) goes too."""
    server, a, _ = _one_user_with_a_replay(tmp_path)
    folder = server.data_dir / "videos" / a.appid
    part = folder / f".f-1.{'ab' * 16}.part"  # what a server stopped mid-upload leaves
    part.write_bytes(b"half a replay")
    other = folder / f".f-1.x.{'cd' * 16}.part"  # session "f-1.x"'s (ids may hold dots): not the user's
    other.write_bytes(b"someone else's")
    args = ("erase", "--app", a.appid, "--user", "the-user", "--json")
    elsewhere = {**server.env, "SESSIONSCOPE_DATA_DIR": str(tmp_path / "other")}
    dry = cli(elsewhere, *args, "--dry-run")
    assert json.loads(dry.stdout)["videos_not_found"] == ["f-0"] and json.loads(dry.stdout)["video_files"] == 0
    assert f"1 recorded replays have no file under {(tmp_path / 'other' / 'videos' / a.appid).resolve()}" in dry.stderr
    done = cli(server.env, *args)
    assert json.loads(done.stdout) == {"appid": a.appid, "dry_run": False, "users": ["the-user"], "sessions": 3,
                                       "events": 0, "videos": 1, "video_files": 2, "videos_not_found": []}
    assert done.stderr == ""
    assert sorted(folder.iterdir()) == [other]


def test_a_file_that_cannot_be_removed_stops_the_erasure_before_any_row(tmp_path: Path) -> None:
    server, a, ids = _one_user_with_a_replay(tmp_path)
    stuck = server.data_dir / "videos" / a.appid / f".f-2.{'ef' * 16}.part"
    stuck.mkdir()  # a directory where a file was expected: unlink fails (as a file root may not remove would)
    (stuck / "x").write_bytes(b"x")
    failed = cli(server.env, "erase", "--app", a.appid, "--user", "the-user", check=False)
    assert failed.returncode == 1
    assert failed.stderr.startswith(f"error: no session was erased: cannot remove {stuck}: Is a directory; "
                                    "1 of their replay files were removed before it; fix that"), failed.stderr
    server.start()
    with server.client() as client:
        assert sorted(sessions(client, a)) == ids  # every row kept
    server.stop()
    (stuck / "x").unlink()
    stuck.rmdir()
    again = json.loads(cli(server.env, "erase", "--app", a.appid, "--user", "the-user", "--json").stdout)
    assert (again["sessions"], again["videos"], again["video_files"]) == (3, 1, 0)  # the replay's file went before
    assert again["videos_not_found"] == ["f-0"]


def test_deleting_an_app_removes_it_and_nothing_else(tmp_path: Path, engine: str) -> None:
    """`apps delete`: the app's keys stop working, its rows and replay folder are gone, the other app answers
    as before; without --yes (and no terminal to ask at) nothing is deleted."""
    server = Server(data_dir=tmp_path / "data", store_url=store_url(engine, tmp_path / "data"))
    server.data_dir.mkdir()
    a, b = server.create_app("doomed"), server.create_app("kept")
    docs = list(recent_sessions(120, days=5, seed=31, now=NOW))
    server.start()
    with server.client() as client:
        for creds in (a, b):
            assert client.post("/v2/ingest/sessions", json=docs, headers=creds.ingest_headers).json()["accepted"] == 120
            r = client.put(f"/v2/ingest/sessions/{docs[0]['sessionId']}/video", content=make_mp4(),
                           headers={**creds.ingest_headers, "Content-Type": "video/mp4"})
            assert r.status_code == 200, r.text
        before_b = sessions(client, b)
        events = len(pages(client, a, "/v2/event"))
    server.stop()

    refused = cli(server.env, "apps", "delete", a.appid, check=False)
    assert refused.returncode == 1
    assert f"not deleted: app {a.appid} (doomed): 120 sessions, {events} events, 1 replay videos (1 files); add --yes" \
        in refused.stderr, refused.stderr
    done = json.loads(cli(server.env, "apps", "delete", a.appid, "--yes", "--json").stdout)
    assert done == {"appid": a.appid, "name": "doomed", "sessions": 120, "events": events, "videos": 1, "video_files": 1}
    assert not (server.data_dir / "videos" / a.appid).exists()
    assert (server.data_dir / "videos" / b.appid / f"{docs[0]['sessionId']}.mp4").exists()
    listed = cli(server.env, "apps", "list", "--json").stdout
    assert [app["appid"] for app in json.loads(listed)] == [b.appid]
    again = cli(server.env, "apps", "delete", a.appid, "--yes", check=False)
    assert again.returncode == 1 and f"no app with id {a.appid}" in again.stderr

    server.start()
    try:
        with server.client() as client:
            r = client.get("/v2/session", params={"filters": FILTERS}, headers=a.read_headers)
            assert r.status_code == 401, r.text
            assert sessions(client, b) == before_b
    finally:
        server.stop()
    # nothing of the app is left in any table (DuckDB's per-user state included)
    from sessionscope.query.render import bound
    from sessionscope.store import open_store

    store = open_store(server.store_url, read_only=True)
    try:
        for table in ("sessions", "events", "videos") + (("user_state",) if engine == "duckdb" else ()):
            sql = f"SELECT count(*) FROM {table} WHERE app_id = {{a}}"
            assert store.query(*bound(store.dialect, sql, a=(a.appid, "String"))) == [(0,)], table
    finally:
        store.close()
