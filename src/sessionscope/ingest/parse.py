"""Turn an ingest body or an import file into a list of decoded documents; nothing here validates a document.

A body that cannot be decoded as a whole is refused (400/413, nothing stored); per-document problems are
left to `normalise`, which reports them by index.
"""

from __future__ import annotations

import gc
import gzip
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import ApiError

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_RS = b"\x1e"  # record separator that starts each record of application/json-seq (RFC 7464)
_NDJSON_MARKERS = ("ndjson", "jsonl", "json-seq")
_ARRAY_AS_NDJSON = ("NDJSON (Content-Type: application/x-ndjson) is one session document per line; "
                    "send a JSON array as application/json")
_NOT_ARRAY = "send a JSON array of session documents or NDJSON (Content-Type: application/x-ndjson)"


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch allocates many small containers.

    Decoding or normalising 10,000 documents creates millions of tracked dicts, lists and tuples; with the
    collector on, its repeated full passes more than double the time. Nothing here creates cycles, so the
    pause loses nothing; the collector is re-enabled only by the caller that paused it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _size(n: int) -> str:
    mib = 1024 * 1024
    return f"{n // mib} MiB" if n % mib == 0 else f"{n} bytes"


def _too_large(max_bytes: int, after: str = "") -> ApiError:
    return ApiError(413, f"body is over the {_size(max_bytes)} limit{after}", param="body")


def _too_many(max_sessions: int, got: str) -> ApiError:
    return ApiError(413, f"at most {max_sessions} sessions per request; got {got}", param="body")


def _bad(message: str) -> ApiError:
    return ApiError(400, message, param="body")


def _gunzip(body: bytes, max_bytes: int) -> bytes:
    """Inflate one or more gzip members, never producing more than max_bytes + 1 bytes of output."""
    out: list[bytes] = []
    total = 0
    data = body
    while True:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = d.decompress(data, max_bytes - total + 1)
        except zlib.error as e:
            raise _bad(f"body is not valid gzip: {e}") from None
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(max_bytes, " (after decompression)")
        out.append(chunk)
        if not d.eof:
            # Output stopped short of the cap and the stream did not end: the body is truncated.
            raise _bad("body is not valid gzip: the compressed data is truncated")
        data = d.unused_data
        if not data.startswith(_GZIP_MAGIC):
            if data.strip(b"\x00"):
                raise _bad("body is not valid gzip: unexpected data after the compressed stream")
            return b"".join(out)


def parse_body(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    *,
    max_bytes: int,
    max_sessions: int,
) -> list[Any]:
    """Decode a POST /v2/ingest/sessions body (JSON array or NDJSON, optionally gzip) into documents.

    Raises ApiError (param "body"): 413 when the body (before or after decompression) is over max_bytes or
    holds more than max_sessions documents; 400 when it is empty, not gzip/JSON, or a single JSON object.
    """
    if len(body) > max_bytes:
        raise _too_large(max_bytes)
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        body = _gunzip(body, max_bytes)
    elif encoding not in ("", "identity"):
        raise _bad(f"Content-Encoding {content_encoding!r} is not supported; send gzip or no encoding")
    elif body.startswith(_GZIP_MAGIC):
        raise _bad("body is gzip-compressed but has no Content-Encoding: gzip header; send that header with it")
    if body.startswith(_BOM):
        body = body[3:]
    ctype = (content_type or "").lower()
    with gc_paused():
        if any(marker in ctype for marker in _NDJSON_MARKERS):
            docs = _parse_ndjson(body, max_sessions)
        else:
            docs = _parse_array(body, max_sessions)
    if not docs:
        raise _bad("no sessions in the body")
    return docs


def _parse_array(body: bytes, max_sessions: int) -> list[Any]:
    if not body.strip():
        raise _bad("no sessions in the body")
    try:
        docs = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        hint = f"; {_NOT_ARRAY}" if body.lstrip().startswith(b"{") else ""
        raise _bad(f"body is not valid JSON: {_why(body, e)}{hint}") from None
    if not isinstance(docs, list):
        raise _bad(_NOT_ARRAY)
    if len(docs) > max_sessions:
        raise _too_many(max_sessions, str(len(docs)))
    return docs


def _parse_ndjson(body: bytes, max_sessions: int) -> list[Any]:
    docs: list[Any] = []
    loads = orjson.loads
    for lineno, line in enumerate(body.split(b"\n"), 1):
        line = line.strip()
        if line.startswith(_RS):
            line = line.lstrip(_RS).strip()
        if not line:
            continue
        if len(docs) == max_sessions:
            raise _too_many(max_sessions, "more")
        try:
            docs.append(loads(line))
        except orjson.JSONDecodeError as e:
            hint = f"; {_ARRAY_AS_NDJSON}" if not docs and line.startswith(b"[") else ""
            raise _bad(f"line {lineno}: not valid JSON: {_why(line, e, one_line=True)}{hint}") from None
    if len(docs) == 1 and type(docs[0]) is list:  # one line, an array: the JSON body under the NDJSON type
        raise _bad(f"the body is one JSON array; {_ARRAY_AS_NDJSON}")
    return docs


def _why(text: bytes, error: orjson.JSONDecodeError, *, one_line: bool = False) -> str:
    """The decoder's reason, in words for the two that name no JSON syntax: bytes that are not UTF-8 (a
    Latin-1 body, say), and a \\uD800-\\uDFFF escape without its pair (an emoji cut in half). `one_line`:
    `text` is one line of an NDJSON file or body, already named by its number; the place is its column
    (the decoder would say "line 1" of the line)."""
    reason = str(error)
    if one_line and error.lineno == 1:
        reason = f"{error.msg} at column {error.colno}"
    if "not valid UTF-8" in reason:
        try:
            text.decode("utf-8")
        except UnicodeDecodeError as bad:
            return f"not UTF-8 text (byte {bad.start} is {text[bad.start]:#04x}); send UTF-8"
    if "surrogate" in reason:
        return (f"{reason}: a \\u escape of half a UTF-16 surrogate pair (e.g. an emoji cut in two) is no character; "
                "send the whole pair or the character itself")
    return reason


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A file's line that is not a JSON value, in place of its document: validation rejects it as a record
    with `reason`, as any invalid document, and the import goes on."""

    reason: str


@dataclass(slots=True)
class NdjsonLines:
    """A batch of an NDJSON file's non-blank lines, not yet decoded, with their line numbers."""

    file_name: str
    lines: list[tuple[int, bytes]]

    def __len__(self) -> int:
        return len(self.lines)

    def body(self) -> bytes:
        """The lines as an NDJSON request body, for a worker process to decode (see ingest.pool)."""
        return b"\n".join(line for _, line in self.lines)

    def decode(self, *, strict: bool = True) -> list[Any]:
        """The documents. A line that is not valid JSON raises ValueError naming its line in the file, or
        with `strict=False` stands as an `Unreadable` naming it."""
        loads = orjson.loads
        out = []
        with gc_paused():  # see gc_paused: decoding a batch with the collector on takes about 3x longer
            for lineno, line in self.lines:
                try:
                    out.append(loads(line))
                except orjson.JSONDecodeError as e:
                    why = _why(line, e, one_line=True)
                    if strict:
                        raise ValueError(f"{self.file_name}: line {lineno}: not valid JSON: {why}") from None
                    out.append(Unreadable(f"line {lineno}: not valid JSON: {why}"))
        return out


def iter_ndjson_lines(path: str | Path, batch_size: int = 10_000) -> Iterator[NdjsonLines]:
    """Yield batches of an NDJSON file's lines (gzip when the name ends in .gz); blank lines are skipped."""
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    lines: list[tuple[int, bytes]] = []
    lineno = 0
    with opener(path, "rb") as f:
        for block in _line_blocks(f):
            for line in block:
                lineno += 1
                line = line.strip()
                if not line:
                    continue
                if lineno == 1 and line.startswith(_BOM):
                    line = line[3:]
                lines.append((lineno, line))
                if len(lines) >= batch_size:
                    yield NdjsonLines(path.name, lines)
                    lines = []
    if lines:
        yield NdjsonLines(path.name, lines)


def _line_blocks(f: Any, size: int = 1 << 22) -> Iterator[list[bytes]]:
    """The lines of a binary file, without their newlines, read a few megabytes at a time.

    Splitting large blocks in one call is about three times cheaper than reading line by line, which for
    a gzip file goes through several Python-level calls per line.
    """
    pending: list[bytes] = []  # the start of a line longer than what has been read of it
    while data := f.read(size):
        if b"\n" not in data:
            pending.append(data)
            continue
        if pending:
            data = b"".join([*pending, data])
            pending = []
        block = data.split(b"\n")
        last = block.pop()
        if last:
            pending.append(last)
        yield block
    if pending:
        yield [b"".join(pending)]


def iter_ndjson_file(path: str | Path, batch_size: int = 10_000) -> Iterator[list[Any]]:
    """Yield batches of decoded documents from an NDJSON file (gzip when the name ends in .gz).

    Blank lines are skipped; a line that is not valid JSON raises ValueError naming its line number.
    """
    for batch in iter_ndjson_lines(path, batch_size):
        yield batch.decode()


def iter_parquet_file(path: str | Path, batch_size: int = 10_000) -> Iterator[list[Any]]:
    """Yield batches of documents from a Parquet file whose columns are the top-level document keys.

    Struct columns become objects (their null fields mean "absent"), list columns lists, map columns objects;
    text columns marked as JSON in their field metadata (`sessionscope: json`, as `sessionscope export`
    writes objects whose keys vary) are decoded.
    """
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as f:
        schema = f.schema_arrow
        json_columns = [field.name for field in schema if (field.metadata or {}).get(b"sessionscope") == b"json"]
        for batch in f.iter_batches(batch_size=batch_size):
            docs = batch.to_pylist(maps_as_pydicts="strict")
            for doc in docs:
                for name in json_columns:
                    if isinstance(doc.get(name), str):
                        doc[name] = orjson.loads(doc[name])
            yield docs
