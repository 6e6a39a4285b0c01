"""Export (SPEC §12): every matching row of a resource as NDJSON, CSV or Parquet, streamed in batches.

validate -> plan (no limit, no order) -> render -> the store streams Arrow record batches -> each batch is
shaped into the list endpoint's documents -> encoded. Memory stays flat whatever the size: one batch of rows
(and, for sessions, that batch's events) is held at a time, and nothing is sorted.

Session documents also carry `screens` and `events` *(ext)*, in the ingest format, so that an export
imports again (`sessionscope import`) into the same sessions: the list shape alone has neither. A session
with no screens stored has no `screens` key: an empty list would make the import derive screen counts of
0 where the session's counts are unknown (null); its `property` carries the counts as stored either way.

Parquet and CSV use a fixed layout per resource: fixed objects (`property`, `device`, `usage`, ...) become
struct columns (CSV: `property.durationSec` columns); objects whose keys vary (custom properties, `web`,
`events`) are JSON text, marked in the Parquet field metadata so that `sessionscope import` decodes them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from . import service, shape
from .catalog import RESOURCES, Resource
from .errors import bad_request, shown
from .jsonbytes import dumps
from .query.plan import plan_export
from .query.render import render_list, render_session_events
from .query.spec import ListSpec
from .query.validate import parse_list
from .settings import Settings
from .store import Store
from .store.schema import ARROW_TYPES, SESSION_COLUMNS

FORMATS = ("ndjson", "csv", "parquet")
CONTENT_TYPES = {
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
BATCH_ROWS = 5_000
# Parquet field metadata marking a column of JSON text (an object whose keys vary); the importer decodes it.
JSON_FIELD = {b"sessionscope": b"json"}

Row = tuple[Any, ...]
Doc = dict[str, Any]


# -- what each resource exports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Exporter:
    """One resource's export: the columns it selects, and a batch of rows -> its documents."""

    columns: tuple[str, ...]
    documents: Callable[[Store, Settings, str, list[Row]], list[Doc]]
    layout: pa.Schema  # Parquet / CSV


_NO_EVENTS = orjson.Fragment(b"[]")


def _session_documents(store: Store, settings: Settings, appid: str, rows: list[Row]) -> list[Doc]:
    ix = {c: i for i, c in enumerate(_SESSION_EXPORT_COLUMNS)}
    sid, uploaded, screens = ix["session_id"], ix["uploaded_at"], ix["screens"]
    events = _events_of(store, appid, rows, sid, uploaded)
    docs = []
    for row in rows:
        doc = shape.session_doc(row, url=service.session_url(settings, appid, row[sid]), video=None)
        if row[screens]:  # none stored: a session that sent no screens, or an empty list (its counts say which)
            doc["screens"] = row[screens]
        doc["events"] = events.get(row[sid], _NO_EVENTS)
        docs.append(doc)
    return docs


def _events_of(store: Store, appid: str, rows: list[Row], sid: int, uploaded: int) -> dict[str, orjson.Fragment]:
    """The events of a batch of sessions, in the ingest format, by session id (one query per batch).

    Each session's list is composed as JSON text (an `orjson.Fragment`): the stored properties already are
    JSON text, so nothing is decoded and encoded again."""
    if not rows:
        return {}
    times = [r[uploaded] for r in rows]
    sql, values = render_session_events(store.dialect, appid, [r[sid] for r in rows], min(times), max(times))
    dumps = orjson.dumps
    parts: dict[str, list[bytes]] = {}
    for session_id, name, screen, time_sec, props in store.query(sql, values):
        event = b'{"name":' + dumps(name)
        if screen is not None:
            event += b',"screen":' + dumps(screen)
        event += b',"timeSec":' + dumps(time_sec)
        if props:
            event += b',"properties":' + props.encode()
        parts.setdefault(session_id, []).append(event + b"}")
    return {session_id: orjson.Fragment(b"[" + b",".join(events) + b"]") for session_id, events in parts.items()}


def _user_documents(store: Store, settings: Settings, appid: str, rows: list[Row]) -> list[Doc]:
    uid = shape.USER_COLUMNS.index("uxcamuserid")
    return [shape.user_doc(r, url=service.user_url(settings, appid, r[uid])) for r in rows]


def _event_documents(store: Store, settings: Settings, appid: str, rows: list[Row]) -> list[Doc]:
    sid = shape.EVENT_COLUMNS.index("session_id")
    return [shape.event_doc(r, appid=appid, url=service.session_url(settings, appid, r[sid])) for r in rows]


_SESSION_EXPORT_COLUMNS = (*shape.SESSION_COLUMNS, "screens")
_KIND = dict(SESSION_COLUMNS)


def _arrow(column: str) -> pa.DataType:
    kind = _KIND[column]
    return pa.string() if kind == "ts" else ARROW_TYPES[kind]  # times are ISO text, as in the documents


def _struct(fields: list[tuple[str, str]], types: dict[str, pa.DataType] | None = None) -> pa.DataType:
    types = types or {}
    return pa.struct([(key, types.get(key) or _arrow(col)) for key, col in fields])


def _json(name: str) -> pa.Field:
    return pa.field(name, pa.string(), metadata=JSON_FIELD)


_STR, _INT, _FLOAT = pa.string(), pa.int64(), pa.float64()

SESSION_LAYOUT = pa.schema(
    [
        ("sessionId", _STR),
        ("video", _STR),
        ("sessionNumber", _INT),
        ("url", _STR),
        ("property", _struct(shape.PROPERTY)),
        _json("user"),
        ("device", _struct(shape.DEVICE)),
        ("location", _struct(shape.LOCATION)),
        _json("web"),
        ("screens", pa.list_(_STR)),
        _json("events"),
    ]
)
USER_LAYOUT = pa.schema(
    [
        ("uxcamUserId", _STR),
        ("userId", _STR),
        ("url", _STR),
        _json("property"),
        (
            "usage",
            _struct(
                shape.USER_USAGE,
                {"registeredOn": _STR, "lastseenOn": _STR, "totalSessionTime": _FLOAT}
                | {k: _INT for k, _ in shape.USER_USAGE[2:] if k != "totalSessionTime"},
            ),
        ),
        ("location", _struct(shape.USER_LOCATION)),
        ("device", _struct(shape.USER_DEVICE)),
    ]
)
EVENT_LAYOUT = pa.schema(
    [
        ("eventId", _STR),
        ("eventName", _STR),
        ("eventScreen", _STR),
        ("eventDate", _STR),
        ("eventPropertyTime", _FLOAT),
        ("url", _STR),
        ("sessionProperty", _struct(shape.EVENT_SESSION)),
        _json("userProperty"),
        _json("eventProperty"),
        ("device", _struct(shape.EVENT_DEVICE, {"platform": _INT})),
    ]
)

EXPORTERS: dict[str, Exporter] = {
    "session": Exporter(_SESSION_EXPORT_COLUMNS, _session_documents, SESSION_LAYOUT),
    "user": Exporter(shape.USER_COLUMNS, _user_documents, USER_LAYOUT),
    "event": Exporter(shape.EVENT_COLUMNS, _event_documents, EVENT_LAYOUT),
}


# -- the stream ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportStream:
    """A validated export: `chunks()` yields the encoded file, batch by batch."""

    store: Store
    settings: Settings
    appid: str
    resource: Resource
    spec: ListSpec
    format: str
    batch_rows: int = BATCH_ROWS

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def filename(self) -> str:
        return f"{self.resource.name}s.{self.format}"

    def _plan(self, columns: tuple[str, ...]) -> tuple[str, Any]:
        return render_list(self.store.dialect, plan_export(self.appid, self.spec, columns))

    def count(self) -> int:
        """How many rows the export holds (for a progress bar)."""
        sql, values = self._plan(("uxcamuserid",))
        return int(self.store.query(f"SELECT count(*) FROM ({sql}) AS exported", values)[0][0])

    def documents(self, progress: Callable[[int], None] | None = None) -> Iterator[list[Doc]]:
        """The export's documents, one batch at a time (`progress` is told each batch's size)."""
        exporter = EXPORTERS[self.resource.name]
        sql, values = self._plan(exporter.columns)
        for batch in self.store.query_batches(sql, values, self.batch_rows):
            rows = list(zip(*(_python(column) for column in batch.columns), strict=True))
            docs = exporter.documents(self.store, self.settings, self.appid, rows)
            if progress is not None:
                progress(len(docs))
            yield docs

    def chunks(self, progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
        """The encoded file, piece by piece."""
        return ENCODERS[self.format](self.documents(progress), EXPORTERS[self.resource.name].layout)


def _python(column: pa.Array) -> list[Any]:
    # engines widen integer sums (DuckDB: HUGEINT, an Arrow decimal); the documents want integers
    if pa.types.is_decimal(column.type) and column.type.scale == 0:
        column = column.cast(pa.int64())
    return column.to_pylist()


def prepare_export(
    store: Store,
    settings: Settings,
    appid: str,
    resource: str,
    params: Mapping[str, Any],
    now: datetime,
    *,
    batch_rows: int = BATCH_ROWS,
) -> ExportStream:
    """Validate an export request (format, filters) before anything is streamed, so errors are plain 400s."""
    fmt = params.get("format", "ndjson")
    if fmt not in FORMATS:
        raise bad_request(f"format must be one of {', '.join(FORMATS)}, got {shown(fmt)}", param="format")
    spec = parse_list(RESOURCES[resource], params, now)
    return ExportStream(store, settings, appid, spec.resource, spec, fmt, batch_rows)


# -- encoders -----------------------------------------------------------------------------------------------


def _ndjson(batches: Iterator[list[Doc]], layout: pa.Schema) -> Iterator[bytes]:
    newline = orjson.OPT_APPEND_NEWLINE
    for docs in batches:
        yield b"".join(dumps(d, option=newline) for d in docs)


def _column(field: pa.Field, docs: list[Doc]) -> pa.Array:
    values = [d.get(field.name) for d in docs]
    if field.metadata == JSON_FIELD:
        return pa.array([None if v is None else orjson.dumps(v).decode() for v in values], pa.string())
    if pa.types.is_struct(field.type):
        keys = [f.name for f in field.type]
        values = [None if v is None else {k: v.get(k) for k in keys} for v in values]
    return pa.array(values, field.type)


def to_table(docs: list[Doc], layout: pa.Schema) -> pa.Table:
    """A batch of documents in the resource's fixed layout."""
    return pa.Table.from_arrays([_column(f, docs) for f in layout], schema=layout)


class _Sink(io.RawIOBase):
    """A write-only file that hands out what was written since the last `take()`."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


def _parquet(batches: Iterator[list[Doc]], layout: pa.Schema) -> Iterator[bytes]:
    import pyarrow.parquet as pq

    sink = _Sink()
    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), layout, compression="zstd") as writer:
        for docs in batches:
            writer.write_table(to_table(docs, layout))
            yield sink.take()
    yield sink.take()


# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): text that starts with = + - @, a tab or
# a carriage return, unless it is a plain number ("-5", "+1.5e3"). An app's users write event names and
# properties, so an export opened in a spreadsheet must not run what they wrote.
_FORMULA = r"^[=+\-@\t\r]"
_NUMBER = r"^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$"


def _defused(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Text that would start a formula, with a leading `'` (spreadsheets show the text, the quote hidden)."""
    risky = pc.and_not(pc.match_substring_regex(column, _FORMULA), pc.match_substring_regex(column, _NUMBER))
    return pc.if_else(pc.fill_null(risky, False), pc.binary_join_element_wise("'", column, ""), column)


def _csv_table(table: pa.Table) -> pa.Table:
    """Struct columns flattened to `section.key`; lists as JSON text (CSV has no nested values); text that
    would start a spreadsheet formula defused."""
    flat = table.flatten()
    columns = []
    for column in flat.columns:
        if pa.types.is_list(column.type):
            column = pa.array(
                [None if v is None else orjson.dumps(v).decode() for v in column.to_pylist()], pa.string()
            )
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = _defused(column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=flat.column_names)


def _csv(batches: Iterator[list[Doc]], layout: pa.Schema) -> Iterator[bytes]:
    import pyarrow.csv as pcsv

    header = True
    empty = True
    for docs in batches:
        buffer = io.BytesIO()
        table = _csv_table(to_table(docs, layout))
        pcsv.write_csv(table, buffer, pcsv.WriteOptions(include_header=header))
        header, empty = False, False
        yield buffer.getvalue()
    if empty:  # no rows: still a header
        buffer = io.BytesIO()
        pcsv.write_csv(_csv_table(to_table([], layout)), buffer)
        yield buffer.getvalue()


ENCODERS: dict[str, Callable[[Iterator[list[Doc]], pa.Schema], Iterator[bytes]]] = {
    "ndjson": _ndjson,
    "csv": _csv,
    "parquet": _parquet,
}
