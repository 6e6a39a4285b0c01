"""API test fixtures: a real `sessionscope serve` process on a real store, loaded over HTTP.

`loaded` (and every fixture that asks for `engine`) runs once per engine: DuckDB and chDB, so that every
answer check runs on both (SPEC §11). `fresh_server` stays on DuckDB (crash and CLI tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from support.data import recent_sessions
from support.engines import ENGINES, store_url
from support.server import Creds, Server, ingest


@dataclass
class Loaded:
    server: Server
    client: httpx.Client
    a: Creds
    b: Creds
    docs_a: list[dict]
    docs_b: list[dict]
    generated_at: datetime  # the `now` the documents were generated for (all uploads are within 29 days before)


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The storage engine of the test's server (the test runs once per engine)."""
    return request.param


@pytest.fixture(scope="session")
def loaded(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Loaded:
    """Two apps: A with 3,000 demo sessions, B with 600 others; uploaded within the default window."""
    data_dir = tmp_path_factory.mktemp(f"store-{engine}")
    server = Server(data_dir=data_dir, store_url=store_url(engine, data_dir))
    a = server.create_app("app-a")
    b = server.create_app("app-b")
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    # the same documents on every run (support/data.py): some filter cases need a few matches to prove much
    docs_a = list(recent_sessions(3_000, days=29, seed=11, now=now))
    docs_b = list(recent_sessions(600, days=29, seed=22, now=now))
    server.start()
    client = server.client()
    for body in ingest(client, a, docs_a, batch=1_000):
        assert body["rejected"] == []
    for body in ingest(client, b, docs_b, batch=600):
        assert body["rejected"] == []
    yield Loaded(server, client, a, b, docs_a, docs_b, now.replace(tzinfo=None))
    client.close()
    server.stop()


@pytest.fixture
def fresh_server(tmp_path) -> Server:
    """An empty store and a stopped server: create apps first, then start it."""
    server = Server(data_dir=tmp_path, store_url=f"duckdb:///{tmp_path / 'sessions.duckdb'}")
    yield server
    server.stop()
