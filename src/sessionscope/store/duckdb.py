"""The embedded engine: one DuckDB file, one writer at a time, readers on their own cursors."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import StoreUnavailable
from ..query.dialects import DUCKDB
from . import deadline, numbering, received
from .base import Erased
from .known_ids import MAX_MINUTE, KnownIds, upload_minutes
from .results import ResultCache
from .schema import EVENT_COLUMNS, SESSION_COLUMNS, SESSION_SCHEMA

log = logging.getLogger("sessionscope.store")
T = TypeVar("T")

TYPES = {
    "str": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "ts": "TIMESTAMP",
    "strlist": "VARCHAR[]",
    "strmap": "MAP(VARCHAR, VARCHAR)",
}


def _table(name: str, columns: list[tuple[str, str]]) -> str:
    cols = ",\n  ".join(f"{c} {TYPES[k]}" for c, k in columns)
    return f"CREATE TABLE {name} (\n  {cols}\n)"


# Per-user state: what a write needs to number a user's next sessions (SPEC: sessionNumber and the user's
# first-session attributes). It is kept in step with `sessions` inside every write's transaction, so a batch
# looks its users up in a table of one row per user instead of scanning every session of the app (at 10M
# sessions that scan took most of a write).
USER_STATE_COLUMNS: list[tuple[str, str]] = [
    ("app_id", "str"),
    ("uxcamuserid", "str"),
    ("session_count", "int"),
    ("last_start", "ts"),  # the latest started_at
    *((c, k) for c, k in SESSION_COLUMNS if c in numbering.FIRST_COLUMNS),
]
_FIRSTS = ", ".join(f"any_value({c})" for c in numbering.FIRST_COLUMNS)  # equal on every row of a user
# every user's state, from scratch, keys kept (tools that write sessions by SQL: the bench's copies of a dataset)
REBUILD_USER_STATE = [
    "DELETE FROM user_state",
    f"INSERT INTO user_state SELECT app_id, uxcamuserid, count(*), max(started_at), {_FIRSTS}, any_value(user_key) "
    "FROM sessions GROUP BY app_id, uxcamuserid",
]
# as migration 2 ran it, before user_state had a key (a released migration never changes)
_REBUILD_USER_STATE_V2 = [
    "DELETE FROM user_state",
    f"INSERT INTO user_state SELECT app_id, uxcamuserid, count(*), max(started_at), {_FIRSTS} FROM sessions "
    "GROUP BY app_id, uxcamuserid",
]

# Every user has an integer key, the same on all its sessions (`user_key`, the last column of `sessions` and of
# `user_state`) and different from every other user's of the store. Counting distinct users (the `users`
# metric, in every default metric set) by key instead of by `uxcamuserid` text took a totals query over 1M
# sessions from 103 to 54 ms: hashing and comparing the text was most of it. A write takes a user's key from
# its state row and gives a new user the next one (`_with_user_keys`); a key is never reused while its user
# has a stored session. ClickHouse keeps the id's SipHash128 as its key instead (store/ch_common.py).
_ADD_USER_KEYS = [
    "ALTER TABLE user_state ADD COLUMN user_key BIGINT",
    "UPDATE user_state SET user_key = k.n FROM "
    "(SELECT rowid AS rid, row_number() OVER (ORDER BY app_id, uxcamuserid) AS n FROM user_state) AS k "
    "WHERE user_state.rowid = k.rid",
    "ALTER TABLE sessions ADD COLUMN user_key BIGINT",
    "UPDATE sessions SET user_key = u.user_key FROM user_state AS u "
    "WHERE sessions.app_id = u.app_id AND sessions.uxcamuserid = u.uxcamuserid",
]

# the state rows of some users ($2) of an app ($1)
_DELETE_USERS_STATE = "DELETE FROM user_state WHERE app_id = $1 AND uxcamuserid IN (SELECT unnest($2::VARCHAR[]))"

# Each migration is applied once, in order, inside one transaction; never edit a released one.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            """CREATE TABLE apps (
                appid VARCHAR PRIMARY KEY,
                name VARCHAR NOT NULL,
                apikey_hash VARCHAR NOT NULL,
                ingest_key_hash VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL
            )""",
            _table("sessions", SESSION_COLUMNS),
            _table("events", EVENT_COLUMNS),
            """CREATE TABLE videos (
                app_id VARCHAR NOT NULL,
                session_id VARCHAR NOT NULL,
                path VARCHAR NOT NULL,
                content_type VARCHAR NOT NULL,
                size_bytes BIGINT NOT NULL,
                uploaded_at TIMESTAMP NOT NULL
            )""",
        ],
    ),
    (2, [_table("user_state", USER_STATE_COLUMNS), *_REBUILD_USER_STATE_V2]),
    (3, _ADD_USER_KEYS),
]

# Derived per-user columns, recomputed for the users a batch reaches back into (or whose sessions it replaces),
# from the earliest point the batch adds to each user's history (`_bounds.lo`, see `_renumber_bounds`):
# that user's rows before it keep their numbers, so the base number of the first row re-read is what the
# user's state says was stored before it. The constant `$lo` (the earliest of those points) lets DuckDB skip
# the row groups that hold none of those rows by their started_at ranges. The first-session values come from
# the rows re-read when they include the user's first session (base 0), else from the user's state. The
# window result goes to a temp table keyed by rowid; each column is then updated only where it changed,
# because DuckDB rewrites every row group an update touches at the next checkpoint.
_RENUMBER_SQL = [
    """CREATE OR REPLACE TEMP TABLE _renumber AS
    SELECT rid, app_id, uxcamuserid, started_at, old_number, base + n AS session_number,
      old_referer, if(base = 0, f_referer, b_referer) AS first_referer,
      old_referer_domain, if(base = 0, f_referer_domain, b_referer_domain) AS first_referer_domain,
      old_screen_name, if(base = 0, f_screen_name, b_screen_name) AS first_screen_name,
      old_utm, if(base = 0, f_utm, b_utm) AS first_utm,
      if(base = 0, f_utm_map, b_utm_map) AS first_utm_map, user_key
    FROM (
      SELECT s.rowid AS rid, s.app_id, s.uxcamuserid, s.user_key, s.started_at, s.session_number AS old_number,
        row_number() OVER w AS n,
        -- the user's stored rows before lo: those it had, less those replaced, less those re-read
        coalesce(b.kept - count(s.session_number) OVER (PARTITION BY s.uxcamuserid), 0) AS base,
        s.first_referer AS old_referer, first_value(s.referer) OVER w AS f_referer, b.first_referer AS b_referer,
        s.first_referer_domain AS old_referer_domain, first_value(s.referer_domain) OVER w AS f_referer_domain,
        b.first_referer_domain AS b_referer_domain,
        s.first_screen_name AS old_screen_name, first_value(s.screens[1]) OVER w AS f_screen_name,
        b.first_screen_name AS b_screen_name,
        s.first_utm AS old_utm, first_value(s.utm) OVER w AS f_utm, b.first_utm AS b_utm,
        first_value(s.utm_map) OVER w AS f_utm_map, b.first_utm_map AS b_utm_map
      FROM sessions s JOIN _bounds b ON s.uxcamuserid = b.uxcamuserid
      WHERE s.app_id = $app AND s.started_at >= $lo AND (b.lo IS NULL OR s.started_at >= b.lo)
      WINDOW w AS (PARTITION BY s.uxcamuserid ORDER BY s.started_at, s.uploaded_at, s.session_id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )""",
    """UPDATE sessions SET session_number = r.session_number FROM _renumber r
    WHERE sessions.rowid = r.rid AND r.old_number IS DISTINCT FROM r.session_number""",
    """UPDATE sessions SET first_referer = r.first_referer, first_referer_domain = r.first_referer_domain,
      first_screen_name = r.first_screen_name, first_utm = r.first_utm, first_utm_map = r.first_utm_map
    FROM _renumber r
    WHERE sessions.rowid = r.rid AND (r.old_referer IS DISTINCT FROM r.first_referer
      OR r.old_referer_domain IS DISTINCT FROM r.first_referer_domain
      OR r.old_screen_name IS DISTINCT FROM r.first_screen_name OR r.old_utm IS DISTINCT FROM r.first_utm)""",
    # their state, from the same rows (the write took their old state rows out first): the last row re-read
    # is the user's last, and every row carries the user's first-session values
    f"""INSERT INTO user_state SELECT app_id, uxcamuserid, max(session_number), max(started_at), {_FIRSTS},
      any_value(user_key) FROM _renumber GROUP BY app_id, uxcamuserid""",
    "DROP TABLE _renumber",
]
# Erasing users (`erase_users`): the app's ($1) users named by id ($2) or by an identity ($3) a session of theirs
# carries, then their sessions' ids, and the deletes, each counting or returning what it removed
_ERASE_USERS = (
    "SELECT DISTINCT uxcamuserid FROM sessions WHERE app_id = $1 AND (uxcamuserid IN (SELECT unnest($2::VARCHAR[])) "
    "OR user_identity IN (SELECT unnest($3::VARCHAR[]))) ORDER BY 1"
)
_ERASE_IDS = (
    "SELECT session_id FROM sessions WHERE app_id = $1 AND uxcamuserid IN (SELECT unnest($2::VARCHAR[])) ORDER BY 1"
)
_ERASE_EVENTS = "DELETE FROM events WHERE app_id = $1 AND session_id IN (SELECT unnest($2::VARCHAR[]))"
_ERASE_VIDEOS = (
    "DELETE FROM videos WHERE app_id = $1 AND session_id IN (SELECT unnest($2::VARCHAR[])) RETURNING session_id"
)
_ERASE_SESSIONS = "DELETE FROM sessions WHERE app_id = $1 AND uxcamuserid IN (SELECT unnest($2::VARCHAR[]))"
_EPOCH = datetime(1970, 1, 1)  # no stored start is earlier (ingest refuses earlier times)
# the stored rows of some session ids ($2) of an app ($1)
_STORED = (
    "SELECT session_id, uxcamuserid, started_at, uploaded_at FROM sessions "
    "WHERE app_id = $1 AND session_id IN (SELECT unnest($2::VARCHAR[]))"
)


def _renumber_bounds(
    sessions: pa.Table, full: list[str], summaries: dict[str, numbering.UserSummary], replaced: list[tuple[Any, ...]]
) -> tuple[pa.Table, datetime]:
    """The `_bounds` of `_RENUMBER_SQL`, one row per user to renumber, and the earliest of their `lo`.

    A user's `lo` is the earliest start among its sessions in the batch and its sessions the batch
    replaces: its stored rows before that point are untouched, and `kept` (its state's count less its
    replaced rows) counts them together with the rest of its remaining rows; the renumbering subtracts the
    rows it re-reads, which include the batch's, and so the user's latest row, from which its new state is
    taken. A user with no session in the batch (one losing a re-sent session to another user: its latest
    row may be the one removed) or without a stored state has no bound and is renumbered from all its rows.
    """
    users = sessions.column("uxcamuserid")
    mine = sessions.filter(pc.is_in(users, value_set=pa.array(full, users.type)))
    starts = mine.group_by("uxcamuserid").aggregate([("started_at", "min")])
    lo: dict[str, datetime] = dict(
        zip(starts.column("uxcamuserid").to_pylist(), starts.column("started_at_min").to_pylist(), strict=True)
    )
    removed: dict[str, int] = {}
    for _, user, start, _ in replaced:
        removed[user] = removed.get(user, 0) + 1
        if user in lo:
            lo[user] = min(lo[user], start)
    columns: dict[str, list[Any]] = {"uxcamuserid": [], "lo": [], "kept": []}
    firsts: list[list[Any]] = [[] for _ in numbering.FIRST_COLUMNS]
    for user in full:
        summary = summaries.get(user) if user in lo else None
        columns["uxcamuserid"].append(user)
        columns["lo"].append(None if summary is None else lo[user])
        columns["kept"].append(None if summary is None else summary.count - removed.get(user, 0))
        for values, value in zip(firsts, (None,) * len(firsts) if summary is None else summary.first, strict=True):
            values.append(numbering.plain(value))
    start_type = SESSION_SCHEMA.field("started_at").type
    bounds = pa.table(
        {
            "uxcamuserid": pa.array(columns["uxcamuserid"], pa.string()),
            "lo": pa.array(columns["lo"], start_type),
            "kept": pa.array(columns["kept"], pa.int64()),
            **{c: pa.array(v, SESSION_SCHEMA.field(c).type) for c, v in zip(numbering.FIRST_COLUMNS, firsts, strict=True)},
        }
    )
    known = [v for v in columns["lo"] if v is not None]
    return bounds, min(known) if len(known) == len(full) else _EPOCH


def _unavailable(exc: Exception) -> bool:
    """An error of the disk, not of the statement: full (EFBIG/ENOSPC), read-only, or a failed WAL write."""
    if isinstance(exc, duckdb.IOException | duckdb.FatalException):
        return True
    # DuckDB reports a WAL that cannot be written as a failed commit
    return isinstance(exc, duckdb.TransactionException) and "Failed to commit" in str(exc)


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is open: a failed COMMIT has already ended it."""
    try:
        cur.execute("ROLLBACK")
    except duckdb.TransactionException:
        pass


@contextmanager
def _rolled_back_on_error(cur: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """A write's transaction: any error rolls it back, and one of the disk is raised as StoreUnavailable."""
    try:
        yield
    except Exception as exc:
        _rollback(cur)
        if _unavailable(exc):
            raise StoreUnavailable(str(exc).splitlines()[0]) from exc
        raise


def _refuse_other_files(path: Path) -> None:
    """Refuse a path that holds something other than a DuckDB database. DuckDB opens a data file (NDJSON,
    CSV, Parquet) given as a database as an in-memory one over that file: a store opened on it would take
    apps and sessions and lose them at exit, the file left as it was."""
    if path.is_dir():
        raise StoreUnavailable(f"cannot open {path}: it is a directory; a DuckDB store is one file (e.g. {path / 'sessionscope.duckdb'})")
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except FileNotFoundError:
        return  # a new store
    except OSError as exc:
        raise StoreUnavailable(f"cannot open {path}: {exc.strerror}") from exc
    if head and head[8:12] != b"DUCK":  # a DuckDB file's magic bytes (an empty file becomes a new store)
        raise StoreUnavailable(
            f"cannot open {path}: it is not a DuckDB database file; give the path of a store, or of a file to create"
        )


class DuckDBStore:
    """A DuckDB file. Reads run concurrently on per-thread cursors; writes are serialised."""

    dialect = DUCKDB

    def __init__(
        self, path: str, *, read_only: bool = False, memory_limit: str = "", threads: int = 0, result_cache: int = 0
    ) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # sessions are personal data
            _refuse_other_files(Path(path))
        # Checkpoint less often than DuckDB's 16 MB default: each checkpoint rewrites the table's last,
        # partly filled row group, so frequent ones made bulk ingestion several times slower.
        # Commits still sync the WAL, so durability is unchanged; replay after a crash reads at most this much.
        config: dict[str, str | int] = {"checkpoint_threshold": "256MB"}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        try:
            self._conn = duckdb.connect(path, read_only=read_only, config=config)
        except duckdb.IOException as exc:
            first = str(exc).splitlines()[0]
            # the hint only where it applies: another process holds the file's lock
            hint = " (is a sessionscope server already using this file? stop it first)" if "lock" in first.lower() else ""
            raise StoreUnavailable(f"cannot open {path}: {first}{hint}") from exc
        self._write_lock = threading.Lock()
        # per app, only touched under the write lock: the set of stored ids, and while one is being built,
        # the hashes written since its table scan (see _known_ids)
        self._known: dict[str, KnownIds] = {}
        self._pending: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self._build_known: Callable[[np.ndarray, np.ndarray], KnownIds] = KnownIds
        self._last_key: int | None = None  # the largest user key given out (see _with_user_keys)
        # this process is the file's only writer, so a count of its commits tells when results go stale
        self.results = ResultCache(max_entries=result_cache)
        self._local = threading.local()
        if not read_only:
            self.migrate()

    # -- plumbing -------------------------------------------------------------------------
    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._conn.cursor()
            self._local.cursor = cur
        return cur

    def schema_version(self) -> int:
        # fetchall, not fetchone: a result left unconsumed keeps its transaction open and blocks checkpoints
        exists = self._conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        ).fetchall()
        if not exists[0][0]:
            return 0
        return int(self._conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0][0])

    def migrate(self) -> None:
        with self._write_lock:
            cur = self._conn.cursor()
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)"
            )
            current = self.schema_version()
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                cur.execute("BEGIN")
                try:
                    for stmt in statements:
                        cur.execute(stmt)
                    cur.execute("INSERT INTO schema_migrations VALUES (?, now()::TIMESTAMP)", [version])
                    cur.execute("COMMIT")
                except Exception:
                    cur.execute("ROLLBACK")
                    raise

    # -- reads ----------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self.results.rows(sql, params, lambda: self._timed(lambda cur: cur.execute(sql, list(params)).fetchall()))

    def query_arrow(self, sql: str, params: Sequence[Any]) -> pa.Table:
        # a relation's Arrow result, not a DB-API result's: that one copies every row once more
        return self._timed(lambda cur: cur.sql(sql, params=list(params)).to_arrow_table())

    def _timed(self, run: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`run(cursor)`, interrupted when it outlasts the request's time limit (store/deadline.py)."""
        cur = self._cursor()
        left = deadline.remaining()
        if left is None:
            return run(cur)
        with deadline.WATCHDOG.watch(left, cur.interrupt) as fired:
            try:
                return run(cur)
            except duckdb.InterruptException:
                if fired():
                    raise deadline.exceeded() from None
                raise

    def query_batches(self, sql: str, params: Sequence[Any], batch_rows: int = 10_000) -> Iterator[pa.RecordBatch]:
        # a cursor of its own: the stream stays open while other queries run (export fetches events per batch)
        cur = self._conn.cursor()
        try:
            # a relation streams its result; a DB-API result would first copy every row
            reader = cur.sql(sql, params=list(params)).to_arrow_reader(batch_rows)
            yield from reader
        finally:
            cur.close()

    # -- writes ---------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._write_lock:
            try:
                self._cursor().execute(sql, list(params))
            finally:
                self.results.bump()

    def write_sessions(self, app_id: str, sessions: pa.Table, events: pa.Table) -> None:
        """Delete-then-insert by sessionId and number the users' sessions, all in one transaction."""
        if sessions.num_rows == 0:
            return
        sessions, received_flags = received.split(sessions)
        ids = sessions.column("session_id").to_pylist()
        batch_user_column = sessions.column("uxcamuserid").to_pylist()
        batch_users = sorted(set(batch_user_column))
        with self._write_lock:
            cur = self._cursor()
            try:
                with _rolled_back_on_error(cur):
                    cur.execute("BEGIN")
                    known = self._known_ids(cur, app_id)
                    hashes = cur.execute("SELECT hash(x) FROM unnest($1::VARCHAR[]) AS t(x)", [ids]).fetchnumpy()
                    hashes = next(iter(hashes.values()))  # unnest keeps the list's order
                    if known is None:  # not built yet: every id is looked up, in every row group
                        maybe, lookup, params = ids, _STORED, [app_id, ids]
                    else:
                        found = known.find(hashes)
                        maybe = [ids[i] for i in found.mask.nonzero()[0]]
                        if maybe:  # the stored rows of these ids were written within these upload times
                            lookup = _STORED + " AND uploaded_at BETWEEN $3 AND $4"
                            params = [app_id, maybe, *found.uploaded_between()]
                    replaced = cur.execute(lookup, params).fetchall() if maybe else []
                    if replaced:  # a session sent again without its upload time keeps the stored one
                        sessions, events = received.keep_first_receipt(
                            sessions, events, received_flags, {r[0]: r[3] for r in replaced}
                        )
                    minutes = upload_minutes(pc.cast(sessions.column("uploaded_at"), pa.int64()).to_numpy())
                    recompute: set[str] = set()
                    if replaced:
                        # a replaced session may move within its user's history, or to another user
                        replaced_ids = {r[0] for r in replaced}
                        recompute = {r[1] for r in replaced}
                        recompute.update(u for sid, u in zip(ids, batch_user_column, strict=True) if sid in replaced_ids)
                        # a session's events carry its upload time: the range lets DuckDB skip the row groups of
                        # other times (the tables are in upload order) instead of reading every session id
                        uploaded = [r[3] for r in replaced]
                        for table in ("events", "sessions"):
                            cur.execute(
                                f"DELETE FROM {table} WHERE app_id = $1 AND uploaded_at BETWEEN $3 AND $4 "
                                "AND session_id IN (SELECT unnest($2::VARCHAR[]))",
                                [app_id, sorted(replaced_ids), min(uploaded), max(uploaded)],
                            )
                    # the batch's users, and the owners of the sessions it replaces
                    if self._last_key is None:  # read before any state row is taken out, so the largest is there
                        self._last_key = int(cur.execute("SELECT coalesce(max(user_key), 0) FROM user_state").fetchall()[0][0])
                    summaries = self._take_user_state(cur, app_id, sorted(recompute.union(batch_users)))
                    sessions, recompute = numbering.assign(sessions, summaries, recompute)
                    sessions = self._with_user_keys(sessions, summaries)
                    full = sorted(recompute)
                    cur.register("_batch_sessions", sessions)
                    cur.register("_batch_events", events)
                    cur.execute("INSERT INTO sessions SELECT * FROM _batch_sessions")
                    if events.num_rows:
                        cur.execute("INSERT INTO events SELECT * FROM _batch_events")
                    self._update_user_state(cur, app_id, full)
                    if full:
                        bounds, lo = _renumber_bounds(sessions, full, summaries, replaced)
                        cur.register("_bounds", bounds)
                        cur.execute(_RENUMBER_SQL[0], {"app": app_id, "lo": lo})
                        for stmt in _RENUMBER_SQL[1:]:
                            cur.execute(stmt)
                    if replaced:
                        # an uploaded replay outlives a re-sent session document
                        cur.execute(
                            "UPDATE sessions SET has_video = true WHERE app_id = $1 AND NOT has_video AND session_id IN "
                            "(SELECT session_id FROM videos WHERE app_id = $1 "
                            "AND session_id IN (SELECT unnest($2::VARCHAR[])))",
                            [app_id, ids],
                        )
                    # before the commit: should the commit fail, an extra id only costs a lookup later
                    if known is not None:
                        known.add(hashes, minutes)
                    if app_id in self._pending:
                        self._pending[app_id].append((hashes, minutes))
                    cur.execute("COMMIT")
                    self.results.bump(app_id)
            finally:
                for name in ("_batch_sessions", "_batch_events", "_bounds"):
                    try:
                        cur.unregister(name)
                    except Exception:  # noqa: BLE001 - not registered when the transaction failed early
                        pass

    def _known_ids(self, cur: duckdb.DuckDBPyConnection, app_id: str) -> KnownIds | None:
        """The app's set of stored ids (store/known_ids.py), or None while there is none yet (the caller then
        looks every id up).

        It is built from the table the first time an app is written in this process. Reading the hashes is
        one quick scan, done here under the write lock; sorting them takes about a second at 10M sessions,
        so it runs in a thread and a write never waits for it. Until it is installed, writes record their
        hashes in `_pending`; the thread adds them, under the write lock, as it installs the set.
        """
        known = self._known.get(app_id)
        if known is None and app_id not in self._pending:
            stored = cur.execute(
                "SELECT hash(session_id) AS h, least(greatest(epoch_ms(uploaded_at) // 60000, 0), $2)::UINTEGER AS m "
                "FROM sessions WHERE app_id = $1",
                [app_id, MAX_MINUTE],
            ).fetchnumpy()
            self._pending[app_id] = []
            threading.Thread(
                target=self._install_known, args=(app_id, stored["h"], stored["m"]),
                name="sessionscope-known-ids", daemon=True,
            ).start()
        return known

    def _install_known(self, app_id: str, hashes: np.ndarray, minutes: np.ndarray) -> None:
        try:
            built = self._build_known(hashes, minutes)
        except BaseException:  # noqa: BLE001 - never installed: the next write starts another build
            with self._write_lock:
                self._pending.pop(app_id, None)
            raise
        with self._write_lock:
            for hashes, minutes in self._pending.pop(app_id):
                built.add(hashes, minutes)
            self._known[app_id] = built

    @staticmethod
    def _take_user_state(
        cur: duckdb.DuckDBPyConnection, app_id: str, users: list[str]
    ) -> dict[str, numbering.UserSummary]:
        """The stored state of the batch's users, removed in the same statement: the write puts their new
        state back (one scan of `user_state` instead of a read and a delete, 20 ms each at 10M sessions)."""
        rows = cur.execute(
            f"{_DELETE_USERS_STATE} RETURNING uxcamuserid, session_count, last_start, "
            f"{', '.join(numbering.FIRST_COLUMNS)}, user_key",
            [app_id, users],
        ).fetchall()
        return {
            user: numbering.UserSummary(count, last, tuple(rest[:-1]), key=rest[-1]) for user, count, last, *rest in rows
        }

    def _with_user_keys(self, sessions: pa.Table, summaries: dict[str, numbering.UserSummary]) -> pa.Table:
        """The batch with its `user_key` column: each user's stored key, or for a user with none, the next
        unused one (counted on from the largest key stored when this process first wrote; a rolled-back
        write only leaves its keys unused)."""
        assert self._last_key is not None
        encoded = pc.dictionary_encode(sessions.column("uxcamuserid")).combine_chunks()
        keys = np.empty(len(encoded.dictionary), dtype=np.int64)
        for i, user in enumerate(encoded.dictionary.to_pylist()):
            summary = summaries.get(user)
            if summary is None or summary.key is None:
                self._last_key += 1
                keys[i] = self._last_key
            else:
                keys[i] = summary.key
        return sessions.append_column("user_key", pa.array(keys[encoded.indices.to_numpy(zero_copy_only=False)]))

    @staticmethod
    def _update_user_state(cur: duckdb.DuckDBPyConnection, app_id: str, full: list[str]) -> None:
        """After a batch is stored (the state of its users and of the owners of the sessions it replaced
        already taken out): write the appending users' new state, which follows from the batch (numbered
        base+1..base+n, so the count is the largest number). The renumbering that follows writes the state
        of the users it renumbers (`full`)."""
        cur.execute(
            f"INSERT INTO user_state SELECT app_id, uxcamuserid, max(session_number), max(started_at), {_FIRSTS}, "
            "any_value(user_key) FROM _batch_sessions WHERE uxcamuserid NOT IN (SELECT unnest($1::VARCHAR[])) "
            "GROUP BY app_id, uxcamuserid",
            [full],
        )

    def videos_for(self, app_id: str, session_ids: list[str]) -> dict[str, tuple[str, str, int]]:
        rows = self.query(
            "SELECT session_id, path, content_type, size_bytes FROM videos "
            "WHERE app_id = $1 AND session_id IN (SELECT unnest($2::VARCHAR[]))",
            [app_id, session_ids],
        )
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def put_video(self, app_id: str, session_id: str, path: str, content_type: str, size: int) -> bool:
        with self._write_lock:
            cur = self._cursor()
            cur.execute("BEGIN")
            with _rolled_back_on_error(cur):
                found = cur.execute(
                    "SELECT count(*) FROM sessions WHERE app_id = $1 AND session_id = $2", [app_id, session_id]
                ).fetchall()
                if not found[0][0]:
                    cur.execute("ROLLBACK")
                    return False
                cur.execute("DELETE FROM videos WHERE app_id = $1 AND session_id = $2", [app_id, session_id])
                cur.execute(
                    "INSERT INTO videos VALUES ($1, $2, $3, $4, $5, now()::TIMESTAMP)",
                    [app_id, session_id, path, content_type, size],
                )
                cur.execute(
                    "UPDATE sessions SET has_video = true WHERE app_id = $1 AND session_id = $2", [app_id, session_id]
                )
                cur.execute("COMMIT")
                self.results.bump(app_id)
                return True

    def erase_users(
        self, app_id: str, users: list[str], identities: list[str], *, dry_run: bool = False,
        before_commit: Callable[[Erased], None] | None = None,
    ) -> Erased:
        """One transaction: the users' sessions, their events, video rows and user state (other users keep
        their numbers: a user's session numbers are its own). A dry run rolls the deletes back."""
        with self._write_lock:
            cur = self._cursor()
            with _rolled_back_on_error(cur):
                cur.execute("BEGIN")
                found = [r[0] for r in cur.execute(_ERASE_USERS, [app_id, users, identities]).fetchall()]
                ids = [r[0] for r in cur.execute(_ERASE_IDS, [app_id, found]).fetchall()]
                events = cur.execute(_ERASE_EVENTS, [app_id, ids]).fetchall()[0][0]
                videos = sorted({r[0] for r in cur.execute(_ERASE_VIDEOS, [app_id, ids]).fetchall()})
                sessions = cur.execute(_ERASE_SESSIONS, [app_id, found]).fetchall()[0][0]
                cur.execute(_DELETE_USERS_STATE, [app_id, found])
                erased = Erased(found, int(sessions), int(events), ids, videos)
                if dry_run or not found:
                    cur.execute("ROLLBACK")
                    return erased
                if before_commit is not None:
                    before_commit(erased)
                cur.execute("COMMIT")
                # an erased id stays in the app's known ids (store/known_ids.py): a session sent again later
                # costs one lookup, which finds nothing, and is stored as new
                self.results.bump(app_id)
                return erased

    def remove_app(self, app_id: str) -> None:
        with self._write_lock:
            cur = self._cursor()
            with _rolled_back_on_error(cur):
                cur.execute("BEGIN")
                for table in ("events", "videos", "user_state", "sessions"):
                    cur.execute(f"DELETE FROM {table} WHERE app_id = $1", [app_id])
                cur.execute("DELETE FROM apps WHERE appid = $1", [app_id])
                cur.execute("COMMIT")
                self._known.pop(app_id, None)
                self.results.bump(app_id)

    def checkpoint(self) -> None:
        """Write the WAL into the store file (a clean stop leaves no .wal to replay); best effort: a store
        that cannot be written now keeps its WAL, replayed at the next start."""
        with self._write_lock:
            try:
                self._conn.cursor().execute("CHECKPOINT")
            except duckdb.Error as exc:
                log.warning("checkpoint at shutdown failed: %s", str(exc).splitlines()[0])

    def close(self) -> None:
        self._conn.close()
