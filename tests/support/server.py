"""A real sessionscope server in a subprocess, on a real store, for API tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the `sessionscope` command line as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "sessionscope.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=600,
    )


@dataclass
class Creds:
    appid: str
    apikey: str
    ingest_key: str

    @property
    def read_headers(self) -> dict[str, str]:
        return {"appid": self.appid, "apikey": self.apikey}

    @property
    def ingest_headers(self) -> dict[str, str]:
        return {"appid": self.appid, "X-Ingest-Key": self.ingest_key}


@dataclass
class Server:
    data_dir: Path
    store_url: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    # a command the server is started under (e.g. setpriv to drop a capability); settings as extra env
    wrapper: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    own_group: bool = False  # started in a process group of its own, as a terminal's foreground job is

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "SESSIONSCOPE_STORE": self.store_url,
                "SESSIONSCOPE_DATA_DIR": str(self.data_dir),
                "SESSIONSCOPE_PUBLIC_URL": self.base_url,
                "SESSIONSCOPE_SECRET_KEY": "test-secret-key-0123456789abcdef",
            }
        )
        env.update(self.extra_env)
        return env

    def create_app(self, name: str) -> Creds:
        """Create an app through the CLI (the server must be stopped: the embedded store has one writer)."""
        out = cli(self.env, "apps", "create", name, "--json").stdout
        data = json.loads(out)
        return Creds(data["appid"], data["apikey"], data["ingest_key"])

    def start(self) -> None:
        self.log_path = self.data_dir / f"server-{self.port}.log"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [*self.wrapper, sys.executable, "-m", "sessionscope.cli", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=self.own_group,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()}")

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60)


@contextmanager
def one_app(
    data_dir: Path, store_url: str, name: str, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[Server, httpx.Client, Creds]]:
    """A started server holding one app (settings as `extra_env`), with a client for it; stopped when the
    block ends."""
    server = Server(data_dir=data_dir, store_url=store_url, extra_env=extra_env or {})
    creds = server.create_app(name)
    server.start()
    client = server.client()
    try:
        yield server, client, creds
    finally:
        client.close()
        server.stop()


def ingest(client: httpx.Client, creds: Creds, docs: list[dict], batch: int = 2_000) -> list[dict]:
    """POST documents in batches; returns every batch's response body."""
    bodies = []
    for i in range(0, len(docs), batch):
        r = client.post("/v2/ingest/sessions", json=docs[i : i + batch], headers=creds.ingest_headers)
        assert r.status_code == 200, r.text
        bodies.append(r.json())
    return bodies
