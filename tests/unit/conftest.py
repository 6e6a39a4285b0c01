"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from support.data import store_for_apps


@pytest.fixture(params=["duckdb", "chdb"])
def loaded_store(request, tmp_path) -> Iterator[Callable[[tuple[str, ...], list[dict[str, Any]], datetime], Any]]:
    """A store on each embedded engine, opened in `tmp_path`; call it with apps, documents and the time of
    receipt to have the documents stored for every app (all of them valid) and the store returned."""
    if request.param == "duckdb":
        from sessionscope.store.duckdb import DuckDBStore

        store: Any = DuckDBStore(str(tmp_path / "s.duckdb"))
    else:
        from sessionscope.store.chdb import ChdbStore

        store = ChdbStore(str(tmp_path / "ch"))  # one per process at a time: closed below

    yield lambda apps, docs, now: store_for_apps(store, apps, docs, now)
    store.close()
