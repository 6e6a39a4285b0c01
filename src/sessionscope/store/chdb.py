"""The in-process ClickHouse engine (chDB) on a directory: `chdb:///path/to/dir`.

The same SQL, DDL and write path as a ClickHouse server (`ch_common`); only the driver differs. chDB
locks its directory, so one process uses a store at a time (like the embedded DuckDB file), and that
process may keep query results until its next write (store/results.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import chdb
import pyarrow as pa

from ..errors import StoreUnavailable
from .ch_common import SESSION_SETTINGS, ClickHouseStore, lock_error
from .ch_params import to_text


class ChdbDriver:
    """One chDB connection per thread (they share the engine), each with the session settings."""

    def __init__(self, path: str) -> None:
        self.path = path
        Path(path).mkdir(mode=0o700, parents=True, exist_ok=True)
        self._local = threading.local()
        self._conns: list[chdb.state.sqlitelike.Connection] = []
        self._lock = threading.Lock()
        self._conn()  # fail now, not on the first request, when another process holds the store

    def _conn(self) -> chdb.state.sqlitelike.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def _open(self) -> chdb.state.sqlitelike.Connection:
        """A new connection with the session settings."""
        try:
            conn = chdb.connect(self.path)
        except Exception as exc:  # noqa: BLE001 - chDB raises plain RuntimeErrors
            text = str(exc)
            if lock_error(text):
                raise StoreUnavailable(
                    f"cannot open {self.path}: another process is using this chDB store "
                    "(is a sessionscope server already running on it? stop it first)"
                ) from None
            raise StoreUnavailable(f"cannot open {self.path}: {text.splitlines()[0] if text else exc!r}") from exc
        for name, value in SESSION_SETTINGS.items():
            conn.query(f"SET {name} = {to_text(value) if not isinstance(value, str) else repr(value)}")
        return conn

    def arrow(self, sql: str, params: dict[str, str], limit: int = 0) -> pa.Table:
        with self._discarded_on_error():
            return self._limited(limit).query(sql, "ArrowTable", params=params)

    @contextmanager
    def _discarded_on_error(self) -> Iterator[None]:
        """A failed statement leaves its connection unfit for the next one (chDB 4.4: the next Arrow result,
        even `SELECT 1`, read as "Invalid IPC stream"; a query stopped at the time limit did it routinely): the
        thread's connection is closed and the next statement opens a new one."""
        try:
            yield
        except Exception:
            conn = self._local.__dict__.pop("conn", None)
            if conn is not None:
                self._local.limit = 0
                with self._lock:
                    self._conns = [c for c in self._conns if c is not conn]
                conn.close()
            raise

    def _limited(self, limit: int) -> chdb.state.sqlitelike.Connection:
        """This thread's connection, set to stop its queries after `limit` seconds (0: never; writes are
        never stopped), the setting sent only when it changes."""
        conn = self._conn()
        if getattr(self._local, "limit", 0) != limit:
            conn.query(f"SET max_execution_time = {limit}")
            self._local.limit = limit
        return conn

    def batches(self, sql: str, params: dict[str, str], batch_rows: int) -> Iterator[pa.RecordBatch]:
        # a connection of its own: a chDB connection runs nothing else while it streams
        conn = self._open()
        try:
            stream = conn.send_query(sql, "Arrow", params=params)
            try:
                yield from stream.record_batch(batch_rows)
            finally:
                stream.close()
        finally:
            conn.close()

    def command(self, sql: str, params: dict[str, str]) -> None:
        with self._discarded_on_error():
            self._limited(0).query(sql, "Null", params=params)

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, data.schema) as writer:
            writer.write_table(data)
        columns = ", ".join(data.column_names)
        with self._discarded_on_error(), self._limited(0).send_insert(f"INSERT INTO {table} ({columns})", "ArrowStream") as inserter:
            inserter.append(sink.getvalue().to_pybytes())
            inserter.finish()

    def close(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()
        self._local = threading.local()


class ChdbStore(ClickHouseStore):
    """A chDB directory."""

    def __init__(self, path: str, *, read_only: bool = False, result_cache: int = 0) -> None:
        self.path = path
        # this process holds the directory, so it sees every write and can keep results like DuckDB
        super().__init__(ChdbDriver(path), read_only=read_only, result_cache=result_cache)
