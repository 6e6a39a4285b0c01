"""One Settings object; every field carries the help text shown by the CLI and the README."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# a DuckDB memory size: a number and a unit (DuckDB's own spellings)
_MEMORY = re.compile(r"[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|K|M|G|T|bytes|kilobytes|megabytes|gigabytes|terabytes)", re.I)


class Settings(BaseSettings):
    """Server and store configuration, read from SESSIONSCOPE_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="SESSIONSCOPE_", extra="ignore")

    store: str = Field(
        "",
        description="Store URL: duckdb:///path/file.duckdb (default: <data_dir>/sessionscope.duckdb), "
        "chdb:///path or clickhouse://user:pass@host:8123/db.",
    )
    data_dir: Path = Field(Path("./data"), description="Directory for the embedded store and uploaded videos.")
    public_url: str = Field(
        "",
        description="Base URL users reach the server at; used in session `url`, `dashboard_link` and video links. "
        "Default: http://<host>:<port> (127.0.0.1 when the host is 0.0.0.0 or ::), so it follows the port.",
    )
    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the HTTP server listens on.")
    secret_key: str = Field(
        "",
        description="Secret used to sign video links and dashboard cookies. Generated and kept in "
        "<data_dir>/secret.key when empty.",
    )
    max_batch_sessions: int = Field(10_000, ge=1, description="Most sessions accepted in one ingest request.")
    max_body_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="Largest ingest body, in bytes after decompression.")
    max_events_per_session: int = Field(2_000, ge=0, description="Most events in one session document.")
    max_screens_per_session: int = Field(2_000, ge=0, description="Most screens in one session document.")
    max_string_length: int = Field(1_024, ge=1, description="Longest string value accepted in a session document.")
    max_custom_properties: int = Field(100, ge=0, description="Most custom properties on a user or an event.")
    max_video_bytes: int = Field(512 * 1024 * 1024, ge=1, description="Largest replay video upload, in bytes.")
    video_min_free_bytes: int = Field(
        1024 * 1024 * 1024,
        ge=0,
        description="Free space a replay video upload must leave on the data directory's disk, in bytes: videos "
        "are refused (503) before they would take the room sessions need. 0: no reserve.",
    )
    video_link_ttl_seconds: int = Field(7 * 24 * 3600, ge=1, description="How long a signed video link stays valid.")
    memory_limit: str = Field(
        "1GB",
        description="Memory the embedded engine may use for queries (DuckDB memory_limit, e.g. 1GB, 4GB); "
        "larger intermediate results spill to disk. Empty: DuckDB's default (80% of RAM).",
    )
    threads: int = Field(0, ge=0, description="Threads the embedded engine uses per query (0: one per core).")
    result_cache: int = Field(
        256,
        ge=0,
        description="Query results (and encoded answers) the embedded store (DuckDB, chDB) keeps and reuses, so a repeated "
        "request does not run again (0 = off). Exact: a committed write of an app's sessions discards what was read for "
        "that app; a change of apps or keys discards them all.",
    )
    query_timeout_seconds: float = Field(
        60.0,
        ge=0,
        description="Longest time a read request (a list, analytics or dashboard page) may take in the store: its "
        "queries are stopped after it and the request answered 503 `query_timeout` (0: no limit). Exports and "
        "ingestion are never stopped.",
    )
    ingest_workers: int = Field(
        1,
        ge=0,
        description="Worker processes that decode and validate ingest batches, so reads are not held up "
        "behind them (0: in the request's thread).",
    )
    ingest_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="How far ingestion (validation workers, the writer thread) steps back from reads on a busy "
        "CPU, as a nice increment (0: same priority). Idle cores still go to ingestion.",
    )
    auth_cache_seconds: float = Field(
        5.0,
        ge=0,
        description="How long a server remembers a verified key instead of reading the apps table again "
        "(0 = never). A key rotated by another process (a ClickHouse deployment) stops working within this time.",
    )
    rate_limit_per_second: int = Field(0, ge=0, description="Requests per second per app on read endpoints (0 = off).")
    rate_limit_per_hour: int = Field(0, ge=0, description="Requests per hour per app on read endpoints (0 = off).")
    log_format: Literal["text", "json"] = Field(
        "text",
        description="Server log format on stderr: text, or json (one JSON object a line with method, route, "
        "status, duration_ms, app and request_id; see docs/operations.md).",
    )

    @field_validator("memory_limit")
    @classmethod
    def _memory_size(cls, value: str) -> str:
        if value.strip() and not _MEMORY.fullmatch(value.strip()):
            raise ValueError(f"{value!r} is not a size like 512MB, 4GB or 1.5GiB (empty: the engine's default)")
        return value.strip()

    @model_validator(mode="after")
    def _derive_public_url(self) -> Settings:
        if not self.public_url:
            self.public_url = default_public_url(self.host, self.port)
        return self

    def listening_on(self, host: str | None, port: int | None) -> Settings:
        """These settings with another listen address; a public URL derived from the old one follows it."""
        if not host and not port:
            return self
        derived = self.public_url == default_public_url(self.host, self.port)
        moved = self.model_copy(update={"host": host or self.host, "port": port or self.port})
        if derived:
            moved = moved.model_copy(update={"public_url": default_public_url(moved.host, moved.port)})
        return moved

    def store_url(self) -> str:
        """The store URL, defaulting to the embedded DuckDB file in data_dir."""
        if self.store:
            return self.store
        return f"duckdb:///{(self.data_dir / 'sessionscope.duckdb').resolve()}"

    def store_options(self) -> dict[str, str | int]:
        """Engine options for store.open_store."""
        return {"memory_limit": self.memory_limit, "threads": self.threads, "result_cache": self.result_cache}

    def resolved_secret(self) -> bytes:
        """The signing secret; created once under data_dir when not configured."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            import secrets

            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()


def default_public_url(host: str, port: int) -> str:
    """http://<host>:<port>, with 127.0.0.1 for an address that listens on every interface."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{port}"
