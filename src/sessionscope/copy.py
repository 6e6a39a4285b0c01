"""`sessionscope copy --from URL --to URL`: move a store (e.g. the embedded DuckDB file) into ClickHouse or chDB.

Rows are copied as they are stored (session numbers and first-session values included), app by app, in
streamed batches: the source is read with `query_batches`, so memory stays flat whatever the store's size.
Apps keep their ids and key hashes, so existing keys keep working against the new store. A target that
already holds one of the apps is refused, naming what it holds beside the source's count (more in the target:
it took sessions since a first copy); with `replace=True` the target's rows for
each copied app are deleted first, so a copy that was interrupted is run again with `--replace`.
Video rows are copied; the files stay where they are: a server reads an app's replays from its own data
directory's `videos/<appid>/`, so the target's server needs the same data directory, or a copy of `videos/`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from .apps import count_app_rows
from .query.render import bound
from .store import Store
from .store.ch_common import ClickHouseStore
from .store.schema import EVENT_COLUMNS, EVENT_SCHEMA, SESSION_COLUMNS, SESSION_SCHEMA

VIDEO_SCHEMA = pa.schema(
    [
        ("app_id", pa.string()),
        ("session_id", pa.string()),
        ("path", pa.string()),
        ("content_type", pa.string()),
        ("size_bytes", pa.int64()),
        ("uploaded_at", pa.timestamp("s")),
    ]
)
TABLES: dict[str, pa.Schema] = {"sessions": SESSION_SCHEMA, "events": EVENT_SCHEMA, "videos": VIDEO_SCHEMA}
COLUMNS = {
    "sessions": [c for c, _ in SESSION_COLUMNS],
    "events": [c for c, _ in EVENT_COLUMNS],
    "videos": VIDEO_SCHEMA.names,
}
APP_COLUMNS = ("appid", "name", "apikey_hash", "ingest_key_hash", "created_at")

# (table, rows done) after each batch
Progress = Callable[[str, int], None]


class TargetHoldsApps(ValueError):
    """The target already holds rows of apps being copied, and the copy was not told to replace them."""


@dataclass
class Held:
    """What the target holds of one app the source also has."""

    appid: str
    name: str
    sessions: int
    newest: Any  # the target's newest upload time (None without sessions)
    source_sessions: int  # the source's count: more in the target means it took sessions since a copy
    events: int = 0
    source_events: int = 0  # fewer in the target (or fewer sessions) means a copy that did not finish


@dataclass
class CopyStats:
    totals: dict[str, int] = field(default_factory=dict)
    copied: dict[str, int] = field(default_factory=lambda: {"apps": 0, "sessions": 0, "events": 0, "videos": 0})


def _empty(store: Store) -> Any:
    return {} if store.dialect.named_params else []


def count_rows(source: Store) -> dict[str, int]:
    totals = {"apps": source.query("SELECT count(*) FROM apps", _empty(source))[0][0]}
    for table in TABLES:
        totals[table] = source.query(f"SELECT count(*) FROM {table}", _empty(source))[0][0]
    return {k: int(v) for k, v in totals.items()}


def _sessions(store: Store, appid: str, *extra: str) -> tuple:
    sql = "SELECT count(DISTINCT session_id), max(uploaded_at)" + "".join(extra) + " FROM sessions WHERE app_id = {a}"
    return store.query(*bound(store.dialect, sql, a=(appid, "String")))[0]


def held(source: Store, target: Store, apps: list[tuple]) -> list[Held]:
    """The source's apps that the target already holds (an app row or any session), with what it holds."""
    out = []
    for appid, name, *_ in apps:
        sessions, newest, app_rows = _sessions(target, appid, ", (SELECT count(*) FROM apps WHERE appid = {a})")
        if app_rows or sessions:
            out.append(Held(appid, name, int(sessions), newest if sessions else None, int(_sessions(source, appid)[0]),
                            count_app_rows(target, "events", appid), count_app_rows(source, "events", appid)))
    return out


def _refusal(found: list[Held]) -> str:
    lines = [f"the target already holds {len(found)} of the apps to copy; nothing was copied:"]
    for h in found:
        what = f"{h.sessions:,} sessions (the source: {h.source_sessions:,})"
        if h.sessions:
            what += f", newest uploaded {h.newest:%Y-%m-%d %H:%M:%S}"
        what += f", {h.events:,} events (the source: {h.source_events:,})"
        if h.sessions > h.source_sessions:
            what += f"; {h.sessions - h.source_sessions:,} more sessions than the source: the target took sessions since"
        elif h.sessions < h.source_sessions or h.events < h.source_events:
            what += "; fewer rows than the source: a copy that did not finish, or rows the source took since"
        lines.append(f"  {h.appid} ({h.name}): {what}")
    lines.append("--replace deletes what the target holds for these apps, then copies them again")
    return "\n".join(lines)


def _apps(source: Store) -> list[tuple]:
    return source.query(f"SELECT {', '.join(APP_COLUMNS)} FROM apps ORDER BY created_at, appid", _empty(source))


def copy_store(
    source: Store,
    target: Store,
    *,
    batch_rows: int = 100_000,
    progress: Progress | None = None,
    started: Callable[[dict[str, int]], None] | None = None,
    replace: bool = False,
) -> CopyStats:
    """Copy every app and its rows from `source` into `target` (a ClickHouse or chDB store).

    A target that already holds any of the apps raises `TargetHoldsApps` before anything is written, unless
    `replace`, which deletes the target's rows for each app before copying it. `started` gets the source's
    row counts once the copy begins (a refused copy never begins)."""
    if not isinstance(target, ClickHouseStore):
        raise ValueError("the target of a copy must be a ClickHouse store (clickhouse://... or chdb:///...)")
    apps = _apps(source)
    if not replace and (found := held(source, target, apps)):
        raise TargetHoldsApps(_refusal(found))
    stats = CopyStats(totals=count_rows(source))
    if started:
        started(stats.totals)
    for appid, name, apikey_hash, ingest_key_hash, created_at in apps:
        target.remove_app(appid)
        target.execute(
            *bound(
                target.dialect,
                f"INSERT INTO apps ({', '.join(APP_COLUMNS)}) VALUES ({{a}}, {{n}}, {{k}}, {{i}}, {{t}})",
                a=(appid, "String"),
                n=(name, "String"),
                k=(apikey_hash, "String"),
                i=(ingest_key_hash, "String"),
                t=(created_at, "DateTime"),
            )
        )
        stats.copied["apps"] += 1
        if progress:
            progress("apps", stats.copied["apps"])
        for table, schema in TABLES.items():
            sql, params = bound(
                source.dialect, f"SELECT {', '.join(COLUMNS[table])} FROM {table} WHERE app_id = {{a}}", a=(appid, "String")
            )
            for batch in source.query_batches(sql, params, batch_rows):
                if not batch.num_rows:
                    continue
                # the source's times may be finer-grained types; stored values are whole seconds
                data = pa.Table.from_batches([batch]).cast(schema, safe=False)
                target.bulk_insert(table, data)
                stats.copied[table] += data.num_rows
                if progress:
                    progress(table, stats.copied[table])
    return stats
