"""Everything the two ClickHouse engines share: DDL, migrations, reads, the idempotent write, videos.

`chdb.py` (in-process) and `clickhouse.py` (a server over HTTP) only supply a `Driver`: run a query to
Arrow, run a statement, insert an Arrow table. Parameters reach the driver already as ClickHouse text
(`ch_params`), so both engines bind a value identically.

## Table design

`sessions` and `events` are MergeTree tables `PARTITION BY toYYYYMM(uploaded_at)
ORDER BY (app_id, uploaded_at, session_id)`: every read is one app's time window (the compiler always
adds `app_id = ? AND uploaded_at BETWEEN ? AND ?`), so the primary index narrows each query to the app's
granules in the window and a 30-day window touches one or two monthly partitions; the list order
(`uploaded_at DESC`) is the key order, so pages are read in order. Low-cardinality text (platform, model,
country, versions...) is `LowCardinality`; custom properties are `Map(String, String)`, lists
`Array(String)`. Bloom-filter skip indexes on `session_id` and `uxcamuserid` serve the write path's
lookups (which stored sessions does a batch replace, what is stored for its users).

## Idempotent writes, exact without FINAL

A plain MergeTree, never ReplacingMergeTree: reads need no FINAL and no argMax, and every count is exact
as soon as a write returns. A batch is written as: (1) find which of its sessions are stored and what is
stored for its users; (2) number the sessions (`numbering.assign`); users the batch reaches back into
(a replaced session, a session earlier than their latest) are renumbered from all their rows, read back
here; (3) INSERT every new row with a `write_version` above every version it replaces (its time in ns,
or higher when a skewed clock wrote those; copied rows are 0); (4) lightweight-DELETE the older versions of
the sessions (and events) written. Lightweight deletes hide rows at once; merges reclaim them later.

ClickHouse has no multi-statement transactions, so this is not atomic the way the DuckDB write is.
Inserting before deleting means a crash never loses a stored session: a crash between (3) and (4)
leaves both versions of the replaced sessions visible (duplicates) and a crash during (3) may leave
part of the batch inserted. Retrying the batch repairs either: its sessions are then found stored, so
their users are renumbered from their latest versions and every older version is deleted. Numbering is
exact for one writer per app at a time (the store serialises its own writes; see docs/scale-out.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from ..query.dialects import CLICKHOUSE
from . import deadline, numbering, received
from .base import Erased
from .ch_params import serialize
from .results import ResultCache
from .schema import EVENT_COLUMNS, EVENT_SCHEMA, SESSION_COLUMNS, SESSION_SCHEMA

# Settings every connection runs with. Extended datetime results keep time buckets before 1970 exact
# (the dialect's bucket templates rely on it); the session time zone is UTC like every stored time.
SESSION_SETTINGS: dict[str, Any] = {
    "session_timezone": "UTC",
    "join_use_nulls": 1,  # an unmatched LEFT JOIN column is NULL, as in standard SQL (and DuckDB)
    "enable_extended_results_for_datetime_functions": 1,
    "lightweight_deletes_sync": 2,
    "mutations_sync": 2,
}


class Driver(Protocol):
    """The engine-specific part: three calls, parameters already as ClickHouse text."""

    def arrow(self, sql: str, params: dict[str, str], limit: int = 0) -> pa.Table:
        """A query's whole result; the engine stops it after `limit` seconds (max_execution_time; 0: never)."""
        ...

    def batches(self, sql: str, params: dict[str, str], batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Stream a result; other queries may run while the stream is open."""
        ...

    def command(self, sql: str, params: dict[str, str]) -> None: ...

    def insert_arrow(self, table: str, data: pa.Table) -> None: ...

    def close(self) -> None: ...


# -- DDL ----------------------------------------------------------------------------------------------------

TIME = "DateTime64(0, 'UTC')"
TYPES = {
    "str": "Nullable(String)",
    "int": "Nullable(Int64)",
    "float": "Nullable(Float64)",
    "bool": "Nullable(Bool)",
    "ts": f"Nullable({TIME})",
    "strlist": "Array(String)",  # an absent list is empty
    "strmap": "Map(String, String)",  # an absent map is empty; lookups test the key (dialect map_get)
}
# Key columns are never NULL; these few-valued texts are dictionary-encoded.
NOT_NULL = {
    "app_id": "LowCardinality(String)", "session_id": "String", "uxcamuserid": "String", "uploaded_at": TIME, "seq": "Int64",
}
LOW_CARDINALITY = {
    "network_type", "carrier_code", "carrier_name", "os_name", "app_version", "sdk_version", "os_version",
    "device_language", "device_country", "device_type", "device_class", "manufacturer", "model", "platform",
    "country_code", "city", "browser_name", "browser_version", "referer_domain", "first_referer_domain",
    "first_screen_name", "name", "screen",
}  # fmt: skip
VERSION = "write_version"  # which write a row belongs to (ClickHouse only; older versions are deleted)


def column_type(name: str, kind: str) -> str:
    if name in NOT_NULL:
        return NOT_NULL[name]
    if kind == "str" and name in LOW_CARDINALITY:
        return "LowCardinality(Nullable(String))"
    return TYPES[kind]


def _table(name: str, columns: list[tuple[str, str]], tail: str, indexes: Sequence[str] = ()) -> str:
    cols = [f"{c} {column_type(c, k)}" for c, k in columns]
    cols += [f"{VERSION} UInt64"] if name in ("sessions", "events") else []
    cols += list(indexes)
    return f"CREATE TABLE IF NOT EXISTS {name} (\n  " + ",\n  ".join(cols) + f"\n) ENGINE = MergeTree\n{tail}"


# Lightweight UPDATE (key rotation, hasVideo) needs the block number/offset columns.
_UPDATABLE = "SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1"
_WINDOWED = "PARTITION BY toYYYYMM(uploaded_at) ORDER BY (app_id, uploaded_at, session_id"

# A DEFAULT column (a MATERIALIZED one would drop out of `SELECT *`, which the events and users relations read):
# writers leave it out and ClickHouse computes it; a value given explicitly would be stored as given.
USER_KEY = "user_key UInt128 DEFAULT reinterpretAsUInt128(sipHash128(uxcamuserid))"

# Each migration runs once, in order; statements are idempotent (IF NOT EXISTS) because ClickHouse has no
# transactional DDL: a migration interrupted half-way is simply run again. Never edit a released one.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            "CREATE TABLE IF NOT EXISTS apps (appid String, name String, apikey_hash String, "
            f"ingest_key_hash String, created_at {TIME}) ENGINE = MergeTree ORDER BY appid {_UPDATABLE}",
            _table(
                "sessions",
                SESSION_COLUMNS,
                f"{_WINDOWED})\n{_UPDATABLE}",
                [
                    "INDEX idx_session_id session_id TYPE bloom_filter(0.01) GRANULARITY 1",
                    "INDEX idx_user uxcamuserid TYPE bloom_filter(0.01) GRANULARITY 1",
                ],
            ),
            _table(
                "events",
                EVENT_COLUMNS,
                f"{_WINDOWED}, seq)",
                ["INDEX idx_session_id session_id TYPE bloom_filter(0.01) GRANULARITY 1"],
            ),
            "CREATE TABLE IF NOT EXISTS videos (app_id LowCardinality(String), session_id String, path String, "
            f"content_type String, size_bytes Int64, uploaded_at {TIME}) ENGINE = MergeTree ORDER BY (app_id, session_id)",
        ],
    ),
    (
        2,
        [
            # Users are counted, grouped and joined by a key that stands for their id: the id's 128-bit SipHash,
            # which is what uniqExact of the id text counts internally. Computed once at insert (and for the rows
            # of older parts by the MATERIALIZE mutation), reading it instead of hashing the text at query time
            # takes 1M sessions' distinct users from 48 to 21 ms on chDB. DuckDB keeps an integer key instead.
            f"ALTER TABLE sessions ADD COLUMN IF NOT EXISTS {USER_KEY}",
            "ALTER TABLE sessions MATERIALIZE COLUMN user_key",
        ],
    ),
]

MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, applied_at DateTime64(0, 'UTC')) "
    "ENGINE = MergeTree ORDER BY version"
)
SHARDED = ("sessions", "events")


def cluster_ddl(cluster: str) -> list[str]:
    """The same tables for a sharded, replicated cluster (docs/scale-out.md), derived from the migrations.

    `sessions` and `events` become Distributed tables over `<table>_local` (ReplicatedMergeTree per shard),
    both sharded by `cityHash64(app_id, uxcamuserid)`: a user's sessions and their events live on one shard,
    so per-user numbering, per-user totals and the event semi-join are all shard-local. The small tables
    (apps, videos, schema_migrations) are replicated to every node (one replication path for all shards).
    """
    out = []
    for stmt in [MIGRATIONS_TABLE, *(s for _, stmts in MIGRATIONS for s in stmts)]:
        if stmt.startswith("ALTER TABLE "):
            out += clustered_alter(stmt, cluster)
            continue
        name = stmt.split("CREATE TABLE IF NOT EXISTS ", 1)[1].split(" ", 1)[0]
        local = f"{name}_local" if name in SHARDED else name
        path = f"/clickhouse/tables/{{shard}}/{{database}}/{local}" if name in SHARDED else f"/clickhouse/tables/all/{{database}}/{local}"
        stmt = stmt.replace(f"CREATE TABLE IF NOT EXISTS {name} ", f"CREATE TABLE IF NOT EXISTS {local} ON CLUSTER {cluster} ", 1)
        out.append(stmt.replace("ENGINE = MergeTree", f"ENGINE = ReplicatedMergeTree('{path}', '{{replica}}')", 1))
        if name in SHARDED:
            out.append(
                f"CREATE TABLE IF NOT EXISTS {name} ON CLUSTER {cluster} AS {local} "
                f"ENGINE = Distributed({cluster}, currentDatabase(), {local}, cityHash64(app_id, uxcamuserid))"
            )
    return out


def clustered_alter(stmt: str, cluster: str) -> list[str]:
    """A migration's ALTER on a cluster: `sessions`/`events` are altered on every shard's `<table>_local`, and a
    new column is added to the Distributed table too (it reads and inserts through it); others ON CLUSTER.
    One clause per ALTER; a later migration that drops, renames or retypes a column must also change the
    Distributed table, which this does for ADD COLUMN only."""
    table, clause = stmt.removeprefix("ALTER TABLE ").split(" ", 1)
    if table not in SHARDED:
        return [f"ALTER TABLE {table} ON CLUSTER {cluster} {clause}"]
    out = [f"ALTER TABLE {table}_local ON CLUSTER {cluster} {clause}"]
    if clause.startswith("ADD COLUMN"):
        out.append(f"ALTER TABLE {table} ON CLUSTER {cluster} {clause}")
    return out


# -- Arrow <-> rows -----------------------------------------------------------------------------------------


def _naive(t: pa.DataType) -> pa.DataType:
    """Times come back as UTC-zoned timestamps; the rest of the code (as with DuckDB) uses naive UTC."""
    if pa.types.is_timestamp(t) and t.tz is not None:
        return pa.timestamp(t.unit)
    return t


def naive_times(table: pa.Table) -> pa.Table:
    schema = pa.schema([f.with_type(_naive(f.type)) for f in table.schema])
    return table if schema == table.schema else table.cast(schema)


def to_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    if table.num_columns == 0 or table.num_rows == 0:
        return []
    return list(zip(*(c.to_pylist() for c in naive_times(table).columns), strict=True))


# Copied rows are older than any write (a write's version is its time in ns, and above every version it replaces)
COPIED_VERSION = 0


def _version_column(table: pa.Table, version: int) -> pa.Table:
    return table.append_column(VERSION, pa.array([version] * table.num_rows, pa.uint64()))


# -- the store ----------------------------------------------------------------------------------------------


class ClickHouseStore:
    """The Store protocol on a ClickHouse engine. Reads run concurrently; writes are serialised."""

    dialect = CLICKHOUSE

    def __init__(
        self, driver: Driver, *, read_only: bool = False, cluster: str | None = None, result_cache: int = 0
    ) -> None:
        self.driver = driver
        self.cluster = cluster
        # Only a store that no other process writes may keep results (store/results.py): chDB, whose directory
        # one process holds, asks for some; a ClickHouse server, whose other clients may write, keeps none (0).
        self.results = ResultCache(max_entries=result_cache)
        self._write_lock = threading.Lock()
        if not read_only:
            self.migrate()

    @contextmanager
    def _writing(self, app_id: str | None = None) -> Iterator[None]:
        """The write lock; kept results (of `app_id`'s reads, or all) are discarded when the write ends, whether
        or not it succeeded (a failed write may have changed some tables)."""
        with self._write_lock:
            try:
                yield
            finally:
                self.results.bump(app_id)

    # -- plumbing -------------------------------------------------------------------------
    def _sharded(self, table: str) -> str:
        """Where a DELETE/UPDATE of a table goes. On a sharded cluster (docs/scale-out.md) `sessions` and
        `events` are Distributed tables, which take inserts and reads but not mutations: those go to every
        shard's `<table>_local`."""
        if self.cluster and table in ("sessions", "events"):
            return f"{table}_local ON CLUSTER `{self.cluster.replace('`', '')}`"
        return table

    def schema_version(self) -> int:
        rows = self.query("SELECT count() FROM system.tables WHERE database = currentDatabase() "
                          "AND name = 'schema_migrations'", {})
        if not rows[0][0]:
            return 0
        return int(self.query("SELECT max(version) FROM schema_migrations", {})[0][0] or 0)

    def migrate(self) -> None:
        with self._writing():
            self.driver.command(MIGRATIONS_TABLE, {})
            current = self.schema_version()
            cluster = f"`{self.cluster.replace('`', '')}`" if self.cluster else None
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for stmt in statements:
                    for one in clustered_alter(stmt, cluster) if cluster and stmt.startswith("ALTER TABLE ") else [stmt]:
                        self.driver.command(one, {})
                self.driver.command(
                    "INSERT INTO schema_migrations VALUES ({v:UInt32}, now64(0, 'UTC'))", serialize({"v": version})
                )

    # -- reads ----------------------------------------------------------------------------
    def query(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        named = _named(params)
        return self.results.rows(sql, [named], lambda: to_rows(self._timed(sql, named)))

    def _query_engine(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        """Rows straight from the engine, never kept: what a write reads to decide what it writes (kept
        results are per app, and whichever app's reads the calling context is scoped to does not matter
        here)."""
        return to_rows(self.driver.arrow(sql, serialize(_named(params))))

    def query_arrow(self, sql: str, params: Any) -> pa.Table:
        return naive_times(self._timed(sql, _named(params)))

    def _timed(self, sql: str, params: dict[str, Any]) -> pa.Table:
        """A read, stopped by the engine when it outlasts the request's time limit (store/deadline.py)."""
        left = deadline.remaining()
        # whole seconds, rounded up (chDB sends the setting again only when it changes: a SET costs 0.2 ms)
        limit = 0 if left is None else max(1, math.ceil(left))
        try:
            return self.driver.arrow(sql, serialize(params), limit)
        except Exception as exc:
            if limit and "TIMEOUT_EXCEEDED" in str(exc):
                raise deadline.exceeded() from None
            raise

    def query_batches(self, sql: str, params: Any, batch_rows: int = 10_000) -> Iterator[pa.RecordBatch]:
        for batch in self.driver.batches(sql, serialize(_named(params)), batch_rows):
            table = naive_times(pa.Table.from_batches([batch]))
            yield from table.to_batches(max_chunksize=batch_rows)  # the engine's blocks may be larger

    # -- writes ---------------------------------------------------------------------------
    def execute(self, sql: str, params: Any = ()) -> None:
        with self._writing():
            self.driver.command(sql, serialize(_named(params)))

    def write_sessions(self, app_id: str, sessions: pa.Table, events: pa.Table) -> None:
        """Insert the batch as a new version, renumbering users as needed, then delete older versions."""
        if sessions.num_rows == 0:
            return
        sessions, received_flags = received.split(sessions)
        ids = sessions.column("session_id").to_pylist()
        users_column = sessions.column("uxcamuserid").to_pylist()
        with self._writing(app_id):
            version = time.time_ns()
            # every stored version of the batch's sessions (older ones may not be deleted yet)
            stored = self._query_engine(
                "SELECT session_id, uxcamuserid, uploaded_at, write_version FROM sessions "
                "WHERE app_id = {app:String} AND session_id IN {ids:Array(String)}",
                {"app": app_id, "ids": ids},
            )
            recompute: set[str] = set()
            if stored:
                # a session sent again without its upload time keeps the stored one (its latest version's)
                latest = {sid: uploaded for sid, _, uploaded, _ in sorted(stored, key=lambda r: r[3])}
                sessions, events = received.keep_first_receipt(sessions, events, received_flags, latest)
                # a replaced session may move within its user's history, or to another user
                replaced = {r[0] for r in stored}
                recompute = {r[1] for r in stored}
                recompute.update(u for sid, u in zip(ids, users_column, strict=True) if sid in replaced)
                sessions = self._keep_videos(app_id, sessions, sorted(replaced))
            summaries = self._user_summaries(app_id, sorted(set(users_column)), ids)
            sessions, full = numbering.assign(sessions, summaries, recompute)
            newest = max((int(r[3]) for r in stored), default=0)  # the newest version the write replaces
            if full:
                sessions, renumbered = self._renumber(app_id, sessions, ids, sorted(full))
                newest = max(newest, renumbered)
            # above every row it replaces, whatever the clock of the process that wrote them (another API host's,
            # or the copy's): `DELETE ... write_version < v` must reach them all
            version = max(version, newest + 1)
            self.driver.insert_arrow("sessions", _version_column(sessions.cast(SESSION_SCHEMA), version))
            if events.num_rows:
                self.driver.insert_arrow("events", _version_column(events.cast(EVENT_SCHEMA), version))
            if stored or full:
                params = serialize({"app": app_id, "ids": ids, "users": sorted(full), "v": version})
                self.driver.command(
                    f"DELETE FROM {self._sharded('sessions')} WHERE app_id = {{app:String}} AND write_version < {{v:UInt64}} "
                    "AND (session_id IN {ids:Array(String)} OR uxcamuserid IN {users:Array(String)})",
                    params,
                )
                self.driver.command(
                    f"DELETE FROM {self._sharded('events')} WHERE app_id = {{app:String}} AND write_version < {{v:UInt64}} "
                    "AND session_id IN {ids:Array(String)}",
                    params,
                )

    def _user_summaries(self, app_id: str, users: list[str], batch_ids: list[str]) -> dict[str, numbering.UserSummary]:
        """What is stored for each user, apart from the batch's own sessions (older versions of them)."""
        firsts = ", ".join(f"any({c})" for c in numbering.FIRST_COLUMNS)
        rows = self._query_engine(
            f"SELECT uxcamuserid, uniqExact(session_id), max(started_at), {firsts} FROM sessions "
            "WHERE app_id = {app:String} AND uxcamuserid IN {users:Array(String)} "
            "AND session_id NOT IN {ids:Array(String)} GROUP BY uxcamuserid",
            {"app": app_id, "users": users, "ids": batch_ids},
        )
        return {user: numbering.UserSummary(count, last, tuple(first)) for user, count, last, *first in rows}

    def _renumber(
        self, app_id: str, sessions: pa.Table, batch_ids: list[str], users: list[str]
    ) -> tuple[pa.Table, int]:
        """The batch plus every stored session of `users` (latest version each), numbered from scratch; and the
        newest version of those stored rows."""
        cols = ", ".join(c for c, _ in SESSION_COLUMNS)
        stored = self.query_arrow(
            f"SELECT {cols}, {VERSION} FROM sessions WHERE app_id = {{app:String}} AND uxcamuserid IN {{users:Array(String)}} "
            "AND session_id NOT IN {ids:Array(String)} ORDER BY write_version DESC LIMIT 1 BY session_id",
            {"app": app_id, "users": users, "ids": batch_ids},
        )
        newest = int(pc.max(stored.column(VERSION)).as_py() or 0) if stored.num_rows else 0
        stored = stored.drop_columns([VERSION])
        renumbered_users = set(users)
        in_users = pa.array([u in renumbered_users for u in sessions.column("uxcamuserid").to_pylist()])
        mine = sessions.filter(in_users)
        rest = sessions.filter(pc.invert(in_users))
        if stored.num_rows:
            mine = pa.concat_tables([mine.cast(SESSION_SCHEMA), stored.cast(SESSION_SCHEMA)])
        renumbered, _ = numbering.assign(mine, {}, set())
        return pa.concat_tables([rest.cast(SESSION_SCHEMA), renumbered.cast(SESSION_SCHEMA)]), newest

    def _keep_videos(self, app_id: str, sessions: pa.Table, replaced: list[str]) -> pa.Table:
        """An uploaded replay outlives a re-sent session document."""
        with_video = {
            r[0]
            for r in self._query_engine(
                "SELECT session_id FROM videos WHERE app_id = {app:String} AND session_id IN {ids:Array(String)}",
                {"app": app_id, "ids": replaced},
            )
        }
        if not with_video:
            return sessions
        ids = sessions.column("session_id").to_pylist()
        old = sessions.column("has_video").to_pylist()
        flags = pa.array([True if sid in with_video else v for sid, v in zip(ids, old, strict=True)], pa.bool_())
        index = sessions.schema.get_field_index("has_video")
        return sessions.set_column(index, sessions.schema.field(index), flags)

    # -- erasure (sessionscope erase) ------------------------------------------------------
    def erase_users(
        self, app_id: str, users: list[str], identities: list[str], *, dry_run: bool = False,
        before_commit: Callable[[Erased], None] | None = None,
    ) -> Erased:
        """No transaction here: the events and video rows are deleted before the sessions, which are what finds
        them, so an erasure stopped part way leaves sessions that running it again finds and finishes.
        Lightweight deletes, like a write's: the rows are gone from every read when the DELETE returns, and
        from the table's files when their parts next merge (docs/operations.md)."""
        with self._writing(app_id):
            params: dict[str, Any] = {"app": app_id, "users": users, "identities": identities}
            found = [r[0] for r in self._query_engine(
                "SELECT DISTINCT uxcamuserid FROM sessions WHERE app_id = {app:String} "
                "AND (uxcamuserid IN {users:Array(String)} OR user_identity IN {identities:Array(String)}) "
                "ORDER BY uxcamuserid", params)]
            params = {"app": app_id, "users": found}
            ids = [r[0] for r in self._query_engine(
                "SELECT DISTINCT session_id FROM sessions WHERE app_id = {app:String} "
                "AND uxcamuserid IN {users:Array(String)} ORDER BY session_id", params)]
            params["ids"] = ids
            sessions = self._query_engine(
                "SELECT count() FROM sessions WHERE app_id = {app:String} AND uxcamuserid IN {users:Array(String)}",
                params)[0][0]
            events = self._query_engine(
                "SELECT count() FROM events WHERE app_id = {app:String} AND session_id IN {ids:Array(String)}",
                params)[0][0]
            videos = sorted({r[0] for r in self._query_engine(
                "SELECT session_id FROM videos WHERE app_id = {app:String} AND session_id IN {ids:Array(String)}",
                params)})
            erased = Erased(found, int(sessions), int(events), ids, videos)
            if dry_run or not found:
                return erased
            if before_commit is not None:
                before_commit(erased)
            bound = serialize(params)
            # by user as well as by id: a session another server writes for them meanwhile goes too, events and all
            for table, where in (("events", "(uxcamuserid IN {users:Array(String)} OR session_id IN {ids:Array(String)})"),
                                 ("videos", "session_id IN {ids:Array(String)}"),
                                 ("sessions", "(uxcamuserid IN {users:Array(String)} OR session_id IN {ids:Array(String)})")):
                self.driver.command(f"DELETE FROM {self._sharded(table)} WHERE app_id = {{app:String}} AND {where}", bound)
            return erased

    # -- bulk copy (sessionscope copy) ----------------------------------------------------
    def remove_app(self, app_id: str) -> None:
        """Delete an app and every row it owns (`apps delete`; a copy re-run starts the app afresh). The app's
        row goes last: a deletion stopped part way leaves the app, and running it again finishes."""
        with self._writing():
            for table, column in (("events", "app_id"), ("videos", "app_id"), ("sessions", "app_id"), ("apps", "appid")):
                target = self._sharded(table)
                self.driver.command(f"DELETE FROM {target} WHERE {column} = {{app:String}}", serialize({"app": app_id}))

    def bulk_insert(self, table: str, data: pa.Table) -> None:
        """Insert rows as they are (numbering included): only for rows copied from another store."""
        with self._writing():
            if table in ("sessions", "events"):
                data = _version_column(data, COPIED_VERSION)
            self.driver.insert_arrow(table, data)

    # -- videos ---------------------------------------------------------------------------
    def videos_for(self, app_id: str, session_ids: list[str]) -> dict[str, tuple[str, str, int]]:
        rows = self.query(
            "SELECT session_id, argMax(path, uploaded_at), argMax(content_type, uploaded_at), "
            "argMax(size_bytes, uploaded_at) FROM videos "
            "WHERE app_id = {app:String} AND session_id IN {ids:Array(String)} GROUP BY session_id",
            {"app": app_id, "ids": session_ids},
        )
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def put_video(self, app_id: str, session_id: str, path: str, content_type: str, size: int) -> bool:
        params = {"app": app_id, "sid": session_id}
        with self._writing(app_id):
            found = self._query_engine(
                "SELECT count() FROM sessions WHERE app_id = {app:String} AND session_id = {sid:String}", params
            )
            if not found[0][0]:
                return False
            self.driver.command(
                "DELETE FROM videos WHERE app_id = {app:String} AND session_id = {sid:String}", serialize(params)
            )
            now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            self.driver.command(
                "INSERT INTO videos VALUES ({app:String}, {sid:String}, {path:String}, {ct:String}, "
                "{size:Int64}, {now:DateTime64(0, 'UTC')})",
                serialize({**params, "path": path, "ct": content_type, "size": size, "now": now}),
            )
            self.driver.command(
                f"UPDATE {self._sharded('sessions')} SET has_video = true "
                "WHERE app_id = {app:String} AND session_id = {sid:String}",
                serialize(params),
            )
            return True

    def checkpoint(self) -> None:
        """Nothing to fold: MergeTree parts are on disk once an insert returns."""

    def close(self) -> None:
        self.driver.close()


def _named(params: Any) -> dict[str, Any]:
    """The compiler's named parameters; positional ones (a list) are refused: ClickHouse SQL names them."""
    if params is None or (isinstance(params, Sequence) and not isinstance(params, str) and len(params) == 0):
        return {}
    if isinstance(params, dict):
        return params
    raise TypeError("ClickHouse queries take named parameters {name: value}, bound as {name:Type}")


def lock_error(message: str) -> bool:
    """Whether an engine error means another process holds the store."""
    # chDB reports the lock ("Cannot lock file .../status") on stderr and raises only this
    return any(m in message for m in ("Cannot lock file", "already running", "Error initializing EmbeddedServer"))


__all__ = ["MIGRATIONS", "cluster_ddl", "clustered_alter", "SESSION_SETTINGS", "ClickHouseStore", "Driver", "column_type", "lock_error", "to_rows"]
