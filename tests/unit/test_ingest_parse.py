"""parse_body and the import-file readers: formats, limits and the errors a client sees."""

from __future__ import annotations

import gc
import gzip
import zlib
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sessionscope.errors import ApiError
from sessionscope.ingest import parse as parse_mod
from sessionscope.ingest.parse import (
    gc_paused,
    iter_ndjson_file,
    iter_ndjson_lines,
    iter_parquet_file,
    parse_body,
)

MIB = 1024 * 1024
DOCS = [{"sessionId": f"s{i}", "user": {"uxcamuserid": "u"}} for i in range(3)]


def parse(
    body: bytes, ctype: str | None = "application/json", enc: str | None = None, **kw: Any
) -> list[Any]:
    kw.setdefault("max_bytes", 32 * MIB)
    kw.setdefault("max_sessions", 10_000)
    return parse_body(body, ctype, enc, **kw)


def api_error(
    body: bytes, ctype: str | None = "application/json", enc: str | None = None, **kw: Any
) -> ApiError:
    with pytest.raises(ApiError) as info:
        parse(body, ctype, enc, **kw)
    assert info.value.param == "body"
    return info.value


def ndjson(docs: list[Any]) -> bytes:
    return b"\n".join(orjson.dumps(d) for d in docs) + b"\n"


# --- formats ---


@pytest.mark.parametrize("ctype", ["application/json", "application/json; charset=utf-8", None, "text/plain"])
def test_json_array(ctype: str | None) -> None:
    assert parse(orjson.dumps(DOCS), ctype) == DOCS


@pytest.mark.parametrize(
    "ctype",
    ["application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines; charset=utf-8",
     "APPLICATION/X-NDJSON", "application/json-seq"],
)  # fmt: skip
def test_ndjson_content_types(ctype: str) -> None:
    assert parse(ndjson(DOCS), ctype) == DOCS


def test_ndjson_skips_blank_lines_crlf_and_record_separators() -> None:
    body = (
        b"\r\n"
        + orjson.dumps(DOCS[0])
        + b"\r\n\n   \n\x1e"
        + orjson.dumps(DOCS[1])
        + b"\r\n"
        + orjson.dumps(DOCS[2])
    )
    assert parse(body, "application/x-ndjson") == DOCS


def test_utf8_bom_is_ignored() -> None:
    assert parse(b"\xef\xbb\xbf" + orjson.dumps(DOCS)) == DOCS


def test_ndjson_lines_that_are_not_objects_are_left_to_validation() -> None:
    assert parse(b'[1]\n"x"\n{"a":1}\n', "application/x-ndjson") == [[1], "x", {"a": 1}]


def test_gzip_json_and_ndjson() -> None:
    assert parse(gzip.compress(orjson.dumps(DOCS)), enc="gzip") == DOCS
    assert parse(gzip.compress(ndjson(DOCS)), "application/x-ndjson", "GZIP") == DOCS
    assert parse(gzip.compress(orjson.dumps(DOCS)), enc="x-gzip") == DOCS


def test_concatenated_gzip_members() -> None:
    body = gzip.compress(ndjson(DOCS[:1])) + gzip.compress(ndjson(DOCS[1:]))
    assert parse(body, "application/x-ndjson", "gzip") == DOCS


def test_identity_encoding() -> None:
    assert parse(orjson.dumps(DOCS), enc="identity") == DOCS


# --- errors ---


def test_single_object_is_refused() -> None:
    err = api_error(orjson.dumps(DOCS[0]))
    assert err.status == 400
    assert (
        err.message == "send a JSON array of session documents or NDJSON (Content-Type: application/x-ndjson)"
    )


def test_ndjson_sent_as_json_gets_a_hint() -> None:
    err = api_error(ndjson(DOCS), "application/json")
    assert err.status == 400 and err.message.startswith("body is not valid JSON: ")
    assert "Content-Type: application/x-ndjson" in err.message


@pytest.mark.parametrize("body", [b"", b"   \n", b"[]", b" [ ] "])
def test_empty_json_body(body: bytes) -> None:
    err = api_error(body)
    assert (err.status, err.message) == (400, "no sessions in the body")


@pytest.mark.parametrize("body", [b"", b"\n\n  \n"])
def test_empty_ndjson_body(body: bytes) -> None:
    err = api_error(body, "application/x-ndjson")
    assert (err.status, err.message) == (400, "no sessions in the body")


@pytest.mark.parametrize("body", [b"42", b'"x"', b"null", b"true"])
def test_json_that_is_not_an_array(body: bytes) -> None:
    assert api_error(body).message.startswith("send a JSON array of session documents or NDJSON")


def test_invalid_json() -> None:
    err = api_error(b'[{"sessionId": "a",}]')
    assert err.status == 400 and err.message.startswith("body is not valid JSON: ")
    assert err.code == "invalid_request"


def test_invalid_ndjson_line_names_the_line_and_refuses_the_body() -> None:
    body = orjson.dumps(DOCS[0]) + b"\n\n" + b'{"sessionId": "b"' + b"\n" + orjson.dumps(DOCS[1])
    err = api_error(body, "application/x-ndjson")
    assert err.status == 400
    # the place within the line, which the decoder would call "line 1"
    assert err.message == "line 3: not valid JSON: unexpected end of data at column 18", err.message


def test_bad_gzip() -> None:
    err = api_error(b"this is not gzip", enc="gzip")
    assert err.status == 400 and err.message.startswith("body is not valid gzip")


def test_truncated_gzip() -> None:
    body = gzip.compress(orjson.dumps(DOCS))
    err = api_error(body[: len(body) // 2], enc="gzip")
    assert err.status == 400 and "truncated" in err.message


def test_garbage_after_gzip() -> None:
    err = api_error(gzip.compress(orjson.dumps(DOCS)) + b"junk", enc="gzip")
    assert err.status == 400 and "after the compressed stream" in err.message


def test_unsupported_encoding() -> None:
    err = api_error(orjson.dumps(DOCS), enc="br")
    assert err.status == 400 and "Content-Encoding" in err.message


# --- limits ---


def test_raw_body_over_the_limit() -> None:
    body = orjson.dumps(DOCS)
    err = api_error(body, max_bytes=len(body) - 1)
    assert err.status == 413 and err.code == "too_large"
    assert err.message == f"body is over the {len(body) - 1} bytes limit"
    assert parse(body, max_bytes=len(body)) == DOCS


def test_limit_is_shown_in_mib() -> None:
    err = api_error(b"x" * (MIB + 1), max_bytes=MIB)
    assert err.message == "body is over the 1 MiB limit"


def test_decompressed_body_over_the_limit() -> None:
    raw = orjson.dumps(DOCS)
    err = api_error(gzip.compress(raw), enc="gzip", max_bytes=len(raw) - 1)
    assert err.status == 413 and err.message.endswith("limit (after decompression)")
    assert parse(gzip.compress(raw), enc="gzip", max_bytes=len(raw)) == DOCS


def test_gzip_bomb_is_stopped_without_inflating_it(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = gzip.compress(b"[" + b" " * (64 * MIB) + b"]", compresslevel=9)
    assert len(bomb) < 100_000
    produced: list[int] = []
    real = zlib.decompressobj

    class Spy:
        def __init__(self, *a: Any) -> None:
            self._d = real(*a)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            out = self._d.decompress(data, max_length)
            produced.append(len(out))
            return out

        def __getattr__(self, name: str) -> Any:
            return getattr(self._d, name)

    monkeypatch.setattr(zlib, "decompressobj", Spy)
    err = api_error(bomb, enc="gzip", max_bytes=MIB)
    assert err.status == 413 and err.message == "body is over the 1 MiB limit (after decompression)"
    assert sum(produced) <= MIB + 1


def test_bomb_in_a_second_gzip_member() -> None:
    body = gzip.compress(b"[") + gzip.compress(b" " * (2 * MIB)) + gzip.compress(b"]")
    err = api_error(body, enc="gzip", max_bytes=MIB)
    assert err.status == 413


def test_too_many_sessions() -> None:
    docs = [{"sessionId": str(i)} for i in range(5)]
    err = api_error(orjson.dumps(docs), max_sessions=4)
    assert (err.status, err.message) == (413, "at most 4 sessions per request; got 5")
    err = api_error(ndjson(docs), "application/x-ndjson", max_sessions=4)
    assert err.status == 413 and err.message.startswith("at most 4 sessions per request")
    assert len(parse(ndjson(docs), "application/x-ndjson", max_sessions=5)) == 5


def test_gc_is_restored() -> None:
    assert gc.isenabled()
    with pytest.raises(ApiError):
        parse(b"[")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # a pause never turns on a collector the caller had turned off
    finally:
        gc.enable()


# --- files ---


def test_iter_ndjson_file_batches(tmp_path: Path) -> None:
    docs = [{"sessionId": f"s{i}"} for i in range(7)]
    path = tmp_path / "s.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + ndjson(docs[:3]) + b"\n\n" + ndjson(docs[3:]))
    batches = list(iter_ndjson_file(path, batch_size=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [d for b in batches for d in b] == docs


def test_iter_ndjson_gz_file(tmp_path: Path) -> None:
    path = tmp_path / "s.ndjson.gz"
    path.write_bytes(gzip.compress(ndjson(DOCS)))
    assert list(iter_ndjson_file(path)) == [DOCS]


@pytest.mark.parametrize("block", [1, 2, 5, 7, 64, 1 << 22])
def test_ndjson_lines_read_in_blocks_keep_their_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        block: int) -> None:
    # blank lines, CRLF, spaces, a BOM, a line longer than a block, no newline at the end
    text = b'\xef\xbb\xbf{"a":1}\r\n\n  \n{"b":"' + b"x" * 40 + b'"}\n\r\n{"c":3}  \n{"d":4}'
    path = tmp_path / "s.ndjson"
    path.write_bytes(text)
    expected = []  # line by line, as a reference
    for lineno, line in enumerate(text.split(b"\n"), 1):
        line = line.strip()
        if line:
            expected.append((lineno, line[3:] if lineno == 1 else line))
    real = parse_mod._line_blocks
    monkeypatch.setattr(parse_mod, "_line_blocks", lambda f: real(f, block))
    got = [pair for batch in iter_ndjson_lines(path, batch_size=2) for pair in batch.lines]
    assert got == expected
    assert [n for n, _ in got] == [1, 4, 6, 7]


def test_iter_ndjson_file_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "s.ndjson"
    path.write_bytes(ndjson(DOCS) + b"{oops\n")
    with pytest.raises(ValueError) as raised:
        list(iter_ndjson_file(path))
    assert str(raised.value) == "s.ndjson: line 4: not valid JSON: unexpected character, expected a string key at column 2"


def test_iter_parquet_file(tmp_path: Path) -> None:
    rows = [
        {
            "sessionId": "s1",
            "property": {"durationSec": 1.5, "uploadedServerTime": "2023-01-16T10:43:47Z"},
            "user": {"uxcamuserid": "u1", "plan": "pro"},
            "screens": ["A", "B"],
            "events": [{"name": "e", "timeSec": 1.0, "properties": {"k": "v"}}],
            "web": None,
        },
        {
            "sessionId": "s2",
            "property": None,
            "user": {"uxcamuserid": "u2", "plan": None},
            "screens": None,
            "events": [],
        },
    ]
    table = pa.Table.from_pylist(rows)
    path = tmp_path / "s.parquet"
    pq.write_table(table, path)
    batches = list(iter_parquet_file(path, batch_size=1))
    assert len(batches) == 2
    docs = [d for b in batches for d in b]
    assert docs[0]["sessionId"] == "s1" and docs[0]["screens"] == ["A", "B"]
    assert docs[0]["user"] == {"uxcamuserid": "u1", "plan": "pro"}
    assert docs[0]["events"][0]["properties"] == {"k": "v"}
    assert docs[1]["user"] == {"uxcamuserid": "u2", "plan": None} and docs[1]["screens"] is None


def test_parquet_map_columns_become_objects(tmp_path: Path) -> None:
    utm = pa.array([[("utm_source", "google")]], type=pa.map_(pa.string(), pa.string()))
    table = pa.table({"sessionId": ["s1"], "web": pa.StructArray.from_arrays([utm], names=["utm"])})
    path = tmp_path / "m.parquet"
    pq.write_table(table, path)
    assert list(iter_parquet_file(path, 10)) == [
        [{"sessionId": "s1", "web": {"utm": {"utm_source": "google"}}}]
    ]


# --- errors that name no JSON syntax: said in words, with what to send instead ---


def test_an_array_sent_as_ndjson_gets_a_hint() -> None:
    for body in (orjson.dumps(DOCS), orjson.dumps(DOCS, option=orjson.OPT_INDENT_2)):
        err = api_error(body, "application/x-ndjson")
        assert err.status == 400 and "send a JSON array as application/json" in err.message, err.message
    assert parse(b'[1]\n{"a":1}\n', "application/x-ndjson") == [[1], {"a": 1}]  # two lines: records to validate


def test_gzip_without_its_header_is_named() -> None:
    err = api_error(gzip.compress(orjson.dumps(DOCS)))
    assert err.status == 400 and err.param == "body"
    assert err.message == "body is gzip-compressed but has no Content-Encoding: gzip header; send that header with it"


def test_text_that_is_not_utf8_names_its_byte() -> None:
    err = api_error('[{"sessionId": "café"}]'.encode("latin-1"))
    assert err.message == "body is not valid JSON: not UTF-8 text (byte 19 is 0xe9); send UTF-8", err.message
    err = api_error(b'{"a":1}\n{"b":"\xe9"}\n', "application/x-ndjson")
    assert err.message == "line 2: not valid JSON: not UTF-8 text (byte 6 is 0xe9); send UTF-8", err.message


def test_half_a_surrogate_pair_is_explained() -> None:
    err = api_error(b'[{"sessionId": "a", "user": {"name": "x\\ud83d"}}]')
    assert err.status == 400 and "half a UTF-16 surrogate pair (e.g. an emoji cut in two)" in err.message, err.message
    assert parse(b'[{"name": "\\ud83d\\ude00"}]') == [{"name": "\U0001f600"}]  # the whole pair is the emoji
