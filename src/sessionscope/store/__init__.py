"""Storage engines behind one small interface; `open_store(url)` picks one from the store URL."""

from __future__ import annotations

from .base import Store


def embedded_path(url: str) -> str | None:
    """The file (DuckDB) or directory (chDB) an embedded store's URL names; None for a server."""
    scheme = url.split("://", 1)[0] if "://" in url else "duckdb"
    if scheme in ("duckdb", "chdb"):
        path = url.split("://", 1)[1] if "://" in url else url
        return "/" + path.lstrip("/") if path.startswith("//") else path  # duckdb:////abs and duckdb:///abs alike
    return None


def open_store(
    url: str, *, read_only: bool = False, memory_limit: str = "", threads: int = 0, result_cache: int = 0
) -> Store:
    """Open the store named by `url` (duckdb:///path, chdb:///path, clickhouse://...).

    `memory_limit` and `threads` bound the embedded engine (empty / 0: the engine's defaults);
    `result_cache` is how many query results an embedded engine (DuckDB, chDB) keeps until the next write
    (0: none). A ClickHouse server, which other processes may write, keeps none.
    """
    scheme = url.split("://", 1)[0] if "://" in url else "duckdb"
    if scheme == "duckdb":
        from .duckdb import DuckDBStore

        return DuckDBStore(
            embedded_path(url) or url, read_only=read_only, memory_limit=memory_limit, threads=threads, result_cache=result_cache
        )
    if scheme == "chdb":
        from .chdb import ChdbStore

        return ChdbStore(embedded_path(url) or url, read_only=read_only, result_cache=result_cache)
    if scheme in ("clickhouse", "clickhouses"):
        from .clickhouse import ClickHouseServerStore

        return ClickHouseServerStore(url, read_only=read_only)
    raise ValueError(
        f"unsupported store URL scheme {scheme!r}; use duckdb:///path/to/file.duckdb, chdb:///path/to/dir "
        "or clickhouse://user:password@host:8123/database"
    )


__all__ = ["Store", "open_store"]
