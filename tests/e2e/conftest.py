"""End-to-end fixtures: a real server with two apps and a real replay video, and Debian's Chromium.

The browser is /usr/bin/chromium driven by Playwright (no browser download). Where it is missing the
browser tests skip with the reason, except under CI (`CI=true`), where they fail: CI must run them.
Screenshots go to test-artifacts/ at the repository root.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sessionscope.demo import generate_sessions
from sessionscope.demo.replay_video import make_mp4
from support.server import Creds, Server, ingest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET = b"test-secret-key-0123456789abcdef"  # what support.server configures


@dataclass
class Site:
    server: Server
    client: httpx.Client
    a: Creds
    b: Creds
    docs_a: list[dict]
    docs_b: list[dict]
    video_session: str  # an app-A session with an uploaded MP4
    plain_session: str  # an app-A session without a video
    now: datetime

    @property
    def base(self) -> str:
        return self.server.base_url

    def path(self, link: str) -> str:
        """A link on this server as the path (and query) the browser shows."""
        assert link.startswith(self.base), link
        return link[len(self.base) :]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("e2e")
    server = Server(data_dir=data_dir, store_url=f"duckdb:///{data_dir / 'sessions.duckdb'}")
    a = server.create_app("Shop (Android, iOS, web)")
    b = server.create_app("Other tenant")
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    # 45 days: the default 30-day window has a previous period to compare with
    docs_a = list(generate_sessions(1_000, days=45, seed=5, now=now))
    docs_b = list(generate_sessions(150, days=45, seed=6, now=now))
    server.start()
    client = server.client()
    try:
        for body in ingest(client, a, docs_a) + ingest(client, b, docs_b):
            assert body["rejected"] == []
        # a session with a few screens and events gets the replay; both sessions are well inside the default
        # 30-day window, which the pages open on (the generator's times depend on the clock: from 13:28 to 16:00
        # UTC the first such session of the 45 days was 30 days 3 hours old)
        def recent(d: dict) -> bool:
            uploaded = datetime.fromisoformat(d["property"]["uploadedServerTime"].replace("Z", "+00:00"))
            return now - uploaded < timedelta(days=25)

        video_doc = next(
            d for d in docs_a if recent(d) and len(d.get("events") or []) >= 2 and len(d.get("screens") or []) >= 3
        )
        plain_doc = next(d for d in docs_a if d is not video_doc and recent(d) and d.get("events"))
        r = client.put(
            f"/v2/ingest/sessions/{video_doc['sessionId']}/video",
            content=make_mp4(),
            headers={**a.ingest_headers, "Content-Type": "video/mp4"},
        )
        assert r.status_code == 200, r.text
        yield Site(
            server,
            client,
            a,
            b,
            docs_a,
            docs_b,
            video_doc["sessionId"],
            plain_doc["sessionId"],
            now.replace(tzinfo=None),
        )
    finally:
        client.close()
        server.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    reason = None
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is missing (apt-get install chromium; `make test` does it as root)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            reason = "the playwright package is missing (pip install -e '.[test]')"
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) and page; console errors are collected on `page.errors`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


def log_in(page, site: Site, creds: Creds | None = None) -> None:  # type: ignore[no-untyped-def]
    """Submit the login form the browser was sent to (the app id is prefilled from the requested page)."""
    creds = creds or site.a
    assert "/login" in page.url, page.url
    if not page.input_value("#appid"):
        page.fill("#appid", creds.appid)
    page.fill("#apikey", creds.apikey)
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")
