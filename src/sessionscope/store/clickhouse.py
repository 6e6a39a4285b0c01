"""A ClickHouse server over HTTP: `clickhouse://user:pass@host:8123/db` (`clickhouses://` for TLS).

The official `clickhouse-connect` client; the SQL, DDL and write path are shared with chDB (`ch_common`).
Query-string options of the URL are ClickHouse settings for every query, except `cluster=NAME`, which names
the cluster of a sharded deployment (see docs/scale-out.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import clickhouse_connect
import pyarrow as pa

from ..errors import StoreUnavailable
from .ch_common import SESSION_SETTINGS, ClickHouseStore
from .ch_params import Text

# The driver logs a failed request ("Unexpected Http Driver Exception") before raising it; with no handler
# configured (the command line) Python printed that line beside our own one-line error. Configured logging
# (the server's) still gets it.
logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


class HttpDriver:
    """A clickhouse-connect client. Parameters are sent as ClickHouse text, exactly as chDB receives them."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @staticmethod
    def _params(params: dict[str, str]) -> dict[str, Text]:
        # wrapped, so that the client sends the text as is instead of formatting (escaping) it again
        return {name: Text(text) for name, text in params.items()}

    def arrow(self, sql: str, params: dict[str, str], limit: int = 0) -> pa.Table:
        settings = {"max_execution_time": limit} if limit else None
        return self.client.query_arrow(sql, parameters=self._params(params), settings=settings)

    def batches(self, sql: str, params: dict[str, str], batch_rows: int) -> Iterator[pa.RecordBatch]:
        # each HTTP response streams on its own, so other queries may run meanwhile
        with self.client.query_arrow_stream(sql, parameters=self._params(params)) as stream:
            for table in stream:
                yield from table.to_batches(max_chunksize=batch_rows)

    def command(self, sql: str, params: dict[str, str]) -> None:
        self.client.command(sql, parameters=self._params(params))

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        self.client.insert_arrow(table, data)

    def close(self) -> None:
        self.client.close()


def connect(url: str) -> Any:
    """clickhouse://user:pass@host:port/db?setting=value -> a client on that database (created if missing)."""
    parts = urlsplit(url)
    database = unquote(parts.path.lstrip("/")) or "default"
    settings = {**SESSION_SETTINGS, **{k: v for k, v in parse_qsl(parts.query) if k != "cluster"}}
    kwargs: dict[str, Any] = {
        "host": parts.hostname or "localhost",
        "port": parts.port or (8443 if parts.scheme == "clickhouses" else 8123),
        "username": unquote(parts.username or "default"),
        "password": unquote(parts.password or ""),
        "secure": parts.scheme == "clickhouses",
    }
    try:
        if database != "default":
            admin = clickhouse_connect.get_client(**kwargs)
            admin.command(f"CREATE DATABASE IF NOT EXISTS `{database.replace('`', '')}`")
            admin.close()
        return clickhouse_connect.get_client(**kwargs, database=database, settings=settings)
    except Exception as exc:  # noqa: BLE001 - connection refused, auth, DNS: all mean "not reachable"
        where = f"{parts.hostname}:{kwargs['port']}/{database}"
        text = str(exc)
        cause = _ERRNO.search(text)  # the socket's reason (connection refused, name not known), not the pool's story
        raise StoreUnavailable(f"cannot reach ClickHouse at {where}: {cause.group(1) if cause else text.splitlines()[0]}") from exc


class ClickHouseServerStore(ClickHouseStore):
    """A ClickHouse server (or a cluster behind one entry point)."""

    def __init__(self, url: str | None = None, *, client: Any = None, read_only: bool = False) -> None:
        # ?cluster=NAME: sessions/events are Distributed tables over <table>_local (docs/scale-out.md)
        cluster = dict(parse_qsl(urlsplit(url).query)).get("cluster") if url else None
        driver = HttpDriver(client if client is not None else connect(url or ""))
        super().__init__(driver, read_only=read_only, cluster=cluster)
