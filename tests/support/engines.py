"""The storage engines every answer test runs on, and the store URL of each in a folder."""

from __future__ import annotations

from pathlib import Path

ENGINES = ("duckdb", "chdb")


def store_url(engine: str, folder: Path) -> str:
    """A fresh store of `engine` inside `folder`."""
    return {
        "duckdb": f"duckdb:///{folder / 'sessions.duckdb'}",
        "chdb": f"chdb:///{folder / 'sessions.chdb'}",
    }[engine]
