"""`sessionscope copy --from URL --to URL`: move a store (e.g. the embedded DuckDB file) into ClickHouse or chDB.

Rows are copied as they are stored (session numbers and first-session values included), app by app, in
streamed batches: the source is read with `query_batches`, so memory stays flat whatever the store's size.
Apps keep their ids and key hashes, so existing keys keep working against the new store. Copying an app
first removes whatever the target holds for it, so a copy that was interrupted is simply run again.
Video rows are copied; the video files stay where they are (the target server needs the same data_dir).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from .query.render import SqlBuilder
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

# (table, rows done) after each batch; called once with the totals first
Progress = Callable[[str, int], None]


@dataclass
class CopyStats:
    totals: dict[str, int] = field(default_factory=dict)
    copied: dict[str, int] = field(default_factory=lambda: {"apps": 0, "sessions": 0, "events": 0, "videos": 0})


def _bound(store: Store, sql: str, **values: tuple[Any, str]) -> tuple[str, Any]:
    b = SqlBuilder(store.dialect)
    return sql.format(**{k: b.bind(v, kind) for k, (v, kind) in values.items()}), b.params()


def _empty(store: Store) -> Any:
    return {} if store.dialect.named_params else []


def count_rows(source: Store) -> dict[str, int]:
    totals = {"apps": source.query("SELECT count(*) FROM apps", _empty(source))[0][0]}
    for table in TABLES:
        totals[table] = source.query(f"SELECT count(*) FROM {table}", _empty(source))[0][0]
    return {k: int(v) for k, v in totals.items()}


def copy_store(
    source: Store, target: Store, *, batch_rows: int = 100_000, progress: Progress | None = None
) -> CopyStats:
    """Copy every app and its rows from `source` into `target` (a ClickHouse or chDB store)."""
    if not isinstance(target, ClickHouseStore):
        raise ValueError("the target of a copy must be a ClickHouse store (clickhouse://... or chdb:///...)")
    stats = CopyStats(totals=count_rows(source))
    apps = source.query(f"SELECT {', '.join(APP_COLUMNS)} FROM apps ORDER BY created_at, appid", _empty(source))
    for appid, name, apikey_hash, ingest_key_hash, created_at in apps:
        target.remove_app(appid)
        target.execute(
            *_bound(
                target,
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
            sql, params = _bound(
                source, f"SELECT {', '.join(COLUMNS[table])} FROM {table} WHERE app_id = {{a}}", a=(appid, "String")
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
