"""Replay video (SPEC §8.4, §5): upload, signed links in the list, download with Range, hasVideo."""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sessionscope import signing
from support.engines import store_url
from support.server import Creds, Server

NOW = datetime.now(UTC).replace(microsecond=0)
ALL_TIME = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": "2000-01-01", "upper": "2099-12-31"},
}
SECRET = b"test-secret-key-0123456789abcdef"  # what support.server configures
MAX_VIDEO = 65_536
NO_VIDEO = "No video available for this session"
SESSIONS = ("v-mp4", "v-none", "v-big", "v-webm", "v-replace", "v-resend", "v-empty", "v-format", "v-race")


def doc(sid: str, **prop: object) -> dict:
    return {
        "sessionId": sid,
        "property": {
            "uploadedServerTime": (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "durationSec": 30.0,
            **prop,
        },
        "user": {"kUXCam_UserIdentity": f"user-{sid}"},
        "device": {"platform": "android", "model": "Pixel 8"},
    }


@dataclass
class Ctx:
    server: Server
    client: httpx.Client
    a: Creds


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Ctx:
    data_dir = tmp_path_factory.mktemp(f"video-{engine}")
    server = Server(
        data_dir=data_dir,
        store_url=store_url(engine, data_dir),
        extra_env={"SESSIONSCOPE_MAX_VIDEO_BYTES": str(MAX_VIDEO)},
    )
    a = server.create_app("video")
    server.start()
    client = server.client()
    r = client.post("/v2/ingest/sessions", json=[doc(s) for s in SESSIONS], headers=a.ingest_headers)
    assert r.json()["accepted"] == len(SESSIONS)
    yield Ctx(server, client, a)
    client.close()
    server.stop()


def upload(ctx: Ctx, sid: str, data: bytes, ctype: str | None = "video/mp4") -> httpx.Response:
    headers = dict(ctx.a.ingest_headers)
    if ctype is not None:
        headers["Content-Type"] = ctype
    return ctx.client.put(f"/v2/ingest/sessions/{sid}/video", content=data, headers=headers)


def sessions(ctx: Ctx, *, with_video: str | None = None) -> dict[str, dict]:
    params = {"page_size": 500, "filters": json.dumps([ALL_TIME])}
    if with_video is not None:
        params["with_video"] = with_video
    r = ctx.client.get("/v2/session", params=params, headers=ctx.a.read_headers)
    assert r.status_code == 200, r.text
    return {x["sessionId"]: x for x in r.json()["data"]}


def assert_error(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"success", "error"} and body["success"] is False
    assert body["error"]["status"] == status and body["error"]["message"]
    return body["error"]


def part_files(ctx: Ctx) -> list[str]:
    folder = ctx.server.data_dir / "videos"
    return (
        [p.name for p in folder.rglob("*") if p.is_file() and p.name.endswith(".part")]
        if folder.exists()
        else []
    )


def test_upload_link_download_and_range(ctx: Ctx) -> None:
    data = os.urandom(5_000)
    r = upload(ctx, "v-mp4", data)
    assert r.status_code == 200, r.text
    assert r.json()["success"] is True
    folder = ctx.server.data_dir / "videos" / ctx.a.appid
    for directory in (folder.parent, folder):  # replays are personal data: readable by the server's user only
        assert directory.stat().st_mode & 0o777 == 0o700, (directory, oct(directory.stat().st_mode))

    rows = sessions(ctx, with_video="true")
    link = rows["v-mp4"]["video"]
    assert isinstance(link, str) and link.startswith(ctx.server.base_url + "/v2/video/")
    assert rows["v-none"]["video"] == NO_VIDEO
    assert rows["v-mp4"]["property"]["hasVideo"] is True
    assert rows["v-none"]["property"]["hasVideo"] is False
    assert sessions(ctx, with_video="1")["v-mp4"]["video"].startswith(ctx.server.base_url + "/v2/video/")
    assert all(x["video"] is None for x in sessions(ctx).values())
    assert all(x["video"] is None for x in sessions(ctx, with_video="false").values())

    # the link is the credential: no keys needed
    r = httpx.get(link, timeout=30)
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["content-type"].startswith("video/mp4")
    r = httpx.get(link, headers={"Range": "bytes=10-99"}, timeout=30)
    assert r.status_code == 206
    assert r.content == data[10:100]
    assert r.headers["content-range"] == "bytes 10-99/5000"
    r = httpx.get(link, headers={"Range": "bytes=4900-"}, timeout=30)
    assert r.status_code == 206 and r.content == data[4900:]
    r = httpx.get(link, headers={"Range": "bytes=-25"}, timeout=30)
    assert r.status_code == 206 and r.content == data[-25:]
    r = httpx.get(link, headers={"Range": "bytes=6000-7000"}, timeout=30)
    assert r.status_code == 416
    # a Range that cannot be read is ignored (RFC 9110 §14.2): the whole file, not an error
    for unreadable in ("bytes=100-10", "bytes=abc", "items=0-10", "bytes="):
        r = httpx.get(link, headers={"Range": unreadable}, timeout=30)
        assert r.status_code == 200 and r.content == data, (unreadable, r.status_code, r.text[:100])
    # HEAD, as players and download tools probe a link: the headers of the GET, no body
    r = httpx.head(link, timeout=30)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == "5000" and r.headers["content-type"].startswith("video/mp4")
    assert r.headers["accept-ranges"] == "bytes"


def test_link_expires_in_a_week(ctx: Ctx) -> None:
    if upload(ctx, "v-mp4", os.urandom(200)).status_code != 200:
        pytest.fail("upload failed")
    before = int(time.time())
    link = sessions(ctx, with_video="true")["v-mp4"]["video"]
    token = link.rsplit("/", 1)[1]
    payload = signing.verify(SECRET, "video", token, before)
    assert payload is not None
    # still valid just under a week from now, not after
    assert signing.verify(SECRET, "video", token, before + 7 * 86400 - 120) is not None
    assert signing.verify(SECRET, "video", token, before + 7 * 86400 + 120) is None
    # an expired link is refused
    expired = signing.sign(SECRET, "video", {"a": ctx.a.appid, "s": "v-mp4"}, before - 1)
    assert_error(ctx.client.get(f"/v2/video/{expired}"), 403)


def test_tampered_token_is_403(ctx: Ctx) -> None:
    assert upload(ctx, "v-mp4", os.urandom(300)).status_code == 200
    token = sessions(ctx, with_video="true")["v-mp4"]["video"].rsplit("/", 1)[1]
    body, mac = token.split(".", 1)
    flip = lambda s, i: s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1 :]  # noqa: E731
    for bad in (
        flip(token, 5),
        flip(token, len(token) - 3),
        body + "." + mac[:-1],
        body,
        "x" + token,
        "a.b",
        "abc",
    ):
        err = assert_error(ctx.client.get(f"/v2/video/{bad}"), 403)
        assert err["code"] == "forbidden"
    # a validly signed link for another purpose, or for a session without a video
    other = signing.sign(SECRET, "dashboard", {"a": ctx.a.appid, "s": "v-mp4"}, int(time.time()) + 600)
    assert_error(ctx.client.get(f"/v2/video/{other}"), 403)
    key = signing.verify(SECRET, "video", token, int(time.time()))["k"]  # the app's current key, as links carry it
    none = signing.sign(SECRET, "video", {"a": ctx.a.appid, "s": "v-none", "k": key}, int(time.time()) + 600)
    assert_error(ctx.client.get(f"/v2/video/{none}"), 404)
    unkeyed = signing.sign(SECRET, "video", {"a": ctx.a.appid, "s": "v-mp4"}, int(time.time()) + 600)
    assert_error(ctx.client.get(f"/v2/video/{unkeyed}"), 403)  # signed, but under no key of the app


def test_upload_errors(ctx: Ctx) -> None:
    data = os.urandom(1_000)
    err = assert_error(upload(ctx, "no-such-session", data), 404)
    assert err["code"] == "not_found"
    for ctype in ("application/octet-stream", "text/plain", "image/png", None):
        assert_error(upload(ctx, "v-none", data, ctype), 400)
    assert_error(upload(ctx, "v-empty", b""), 400)
    r = ctx.client.put(
        "/v2/ingest/sessions/bad%20id/video",
        content=data,
        headers={**ctx.a.ingest_headers, "Content-Type": "video/mp4"},
    )
    assert r.status_code in (400, 404)
    assert_error(r, r.status_code)
    rows = sessions(ctx, with_video="true")
    for sid in ("v-none", "v-empty"):
        assert rows[sid]["property"]["hasVideo"] is False and rows[sid]["video"] == NO_VIDEO
    assert part_files(ctx) == []


def test_over_the_size_limit_is_413(ctx: Ctx) -> None:
    assert upload(ctx, "v-big", os.urandom(MAX_VIDEO)).status_code == 200  # exactly the limit is fine
    good = sessions(ctx, with_video="true")["v-big"]["video"]
    before = httpx.get(good, timeout=30).content
    err = assert_error(upload(ctx, "v-big", os.urandom(MAX_VIDEO + 1)), 413)
    assert err["code"] == "too_large"

    def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: the limit applies while streaming
        for _ in range(20):
            yield os.urandom(8_192)

    r = ctx.client.put(
        "/v2/ingest/sessions/v-big/video",
        content=chunks(),
        headers={**ctx.a.ingest_headers, "Content-Type": "video/mp4"},
    )
    assert_error(r, 413)
    # the stored video is the earlier one, intact
    assert httpx.get(sessions(ctx, with_video="true")["v-big"]["video"], timeout=30).content == before
    assert part_files(ctx) == []


def test_webm_and_replacement(ctx: Ctx) -> None:
    webm = os.urandom(2_048)
    assert upload(ctx, "v-webm", webm, "video/webm").status_code == 200
    r = httpx.get(sessions(ctx, with_video="true")["v-webm"]["video"], timeout=30)
    assert r.content == webm and r.headers["content-type"].startswith("video/webm")

    first, second = os.urandom(1_500), os.urandom(2_500)
    assert upload(ctx, "v-replace", first).status_code == 200
    assert upload(ctx, "v-replace", second, "video/mp4; codecs=avc1").status_code == 200
    r = httpx.get(sessions(ctx, with_video="true")["v-replace"]["video"], timeout=30)
    assert r.content == second


def test_has_video_survives_resending_the_session(ctx: Ctx) -> None:
    data = os.urandom(4_000)
    assert upload(ctx, "v-resend", data).status_code == 200
    assert sessions(ctx)["v-resend"]["property"]["hasVideo"] is True
    flt = {"attribute": "session_has_video", "operator": "equal", "value": True}
    for resent in (doc("v-resend", durationSec=99.0), doc("v-resend", hasVideo=False)):
        r = ctx.client.post("/v2/ingest/sessions", json=[resent], headers=ctx.a.ingest_headers)
        assert r.json()["accepted"] == 1
        row = sessions(ctx, with_video="true")["v-resend"]
        assert row["property"]["hasVideo"] is True
        assert row["property"]["durationSec"] == resent["property"]["durationSec"]
        assert httpx.get(row["video"], timeout=30).content == data
        r = ctx.client.get(
            "/v2/session",
            params={"filters": json.dumps([ALL_TIME, flt]), "page_size": 500},
            headers=ctx.a.read_headers,
        )
        assert "v-resend" in {x["sessionId"] for x in r.json()["data"]}


def test_a_documents_own_has_video_is_kept_and_video_says_none_is_stored(ctx: Ctx) -> None:
    """An imported session that had its replay elsewhere: hasVideo stays true (and a filter finds it), but
    `video` links only to a replay stored here."""
    r = ctx.client.post("/v2/ingest/sessions", json=[doc("v-elsewhere", hasVideo=True)], headers=ctx.a.ingest_headers)
    assert r.json()["accepted"] == 1, r.text
    row = sessions(ctx, with_video="true")["v-elsewhere"]
    assert row["property"]["hasVideo"] is True and row["video"] == NO_VIDEO
    flt = [ALL_TIME, {"attribute": "session_has_video", "operator": "equal", "value": True}]
    r = ctx.client.get("/v2/session", params={"filters": json.dumps(flt), "page_size": 500}, headers=ctx.a.read_headers)
    assert "v-elsewhere" in {x["sessionId"] for x in r.json()["data"]}


def test_a_video_for_no_session_is_refused_before_its_body_and_a_replaced_format_leaves_no_file(ctx: Ctx) -> None:
    """404 for a session the app does not hold comes before the body is read (not a 413, nothing written to
    disk); a replay sent again as webm after mp4 leaves one file, the webm."""
    assert_error(upload(ctx, "no-such-session", os.urandom(MAX_VIDEO + 1)), 404)
    assert part_files(ctx) == []
    assert upload(ctx, "v-format", os.urandom(1_000)).status_code == 200
    webm = os.urandom(1_200)
    assert upload(ctx, "v-format", webm, "video/webm").status_code == 200
    folder = ctx.server.data_dir / "videos" / ctx.a.appid
    assert sorted(p.name for p in folder.glob("v-format.*")) == ["v-format.webm"]
    assert httpx.get(sessions(ctx, with_video="true")["v-format"]["video"], timeout=30).content == webm


def test_uploads_of_one_session_in_both_formats_at_once_leave_the_one_recorded(ctx: Ctx) -> None:
    """Each upload puts its file in place, records it and removes the other format's file: two at once, in
    different formats, removed each other's files and left a link to nothing."""
    folder = ctx.server.data_dir / "videos" / ctx.a.appid
    bodies = {"video/mp4": os.urandom(MAX_VIDEO), "video/webm": os.urandom(MAX_VIDEO)}

    def send(ctype: str) -> int:
        with ctx.server.client() as client:
            headers = {**ctx.a.ingest_headers, "Content-Type": ctype}
            return client.put("/v2/ingest/sessions/v-race/video", content=bodies[ctype], headers=headers).status_code

    with ThreadPoolExecutor(2) as pool:
        for _ in range(12):
            assert list(pool.map(send, bodies)) == [200, 200]
            files = sorted(folder.glob("v-race.*"))
            assert len(files) == 1, files
            r = httpx.get(sessions(ctx, with_video="true")["v-race"]["video"], timeout=30)
            assert r.status_code == 200 and r.content == files[0].read_bytes()
            assert r.headers["content-type"].startswith(f"video/{files[0].suffix[1:]}")


def test_videos_leave_the_disk_reserve_to_sessions(tmp_path_factory: pytest.TempPathFactory, engine: str) -> None:
    """A video that would leave less than SESSIONSCOPE_VIDEO_MIN_FREE_BYTES free on the data disk is refused
    (503, Retry-After) before its bytes are kept: declared ones before the body is read, streamed ones (no
    Content-Length) as soon as what they wrote eats into the reserve. Nothing is left on disk, the session
    keeps no video, and sessions are still taken."""
    data_dir = tmp_path_factory.mktemp(f"video-reserve-{engine}")
    mib = 1024 * 1024
    reserve = shutil.disk_usage(data_dir).free - 64 * mib  # 64 MiB may be written, no more
    server = Server(
        data_dir=data_dir,
        store_url=store_url(engine, data_dir),
        extra_env={"SESSIONSCOPE_MAX_VIDEO_BYTES": str(256 * mib), "SESSIONSCOPE_VIDEO_MIN_FREE_BYTES": str(reserve)},
    )
    a = server.create_app("reserve")
    server.start()
    try:
        with server.client() as client:
            assert client.post("/v2/ingest/sessions", json=[doc("r-1")], headers=a.ingest_headers).json()["accepted"] == 1
            headers = {**a.ingest_headers, "Content-Type": "video/mp4"}
            small = os.urandom(4_096)
            assert client.put("/v2/ingest/sessions/r-1/video", content=small, headers=headers).status_code == 200

            declared = client.put("/v2/ingest/sessions/r-1/video", content=b"\0" * (96 * mib), headers=headers)

            def chunks():  # type: ignore[no-untyped-def]  # 96 MiB with no Content-Length
                for _ in range(96):
                    yield b"\0" * mib

            streamed = client.put("/v2/ingest/sessions/r-1/video", content=chunks(), headers=headers)
            for r in (declared, streamed):
                err = assert_error(r, 503)
                assert err["code"] == "store_unavailable" and "disk space" in err["message"]
                assert r.headers["retry-after"] == "300"
            folder = data_dir / "videos" / a.appid
            assert [p.name for p in folder.iterdir()] == ["r-1.mp4"]  # no part file left
            assert (folder / "r-1.mp4").read_bytes() == small  # the stored replay untouched
            # sessions are still taken
            assert client.post("/v2/ingest/sessions", json=[doc("r-2")], headers=a.ingest_headers).json()["accepted"] == 1
            r = client.get("/v2/session", params={"filters": json.dumps([ALL_TIME])}, headers=a.read_headers)
            assert sorted(x["sessionId"] for x in r.json()["data"]) == ["r-1", "r-2"]
    finally:
        server.stop()
    assert "video refused" in server.log_path.read_text()
