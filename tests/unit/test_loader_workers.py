"""An import validated in worker processes stores exactly what one validated in-process stores."""

import gzip
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from sessionscope import apps
from sessionscope.demo import generate_sessions
from sessionscope.ingest.parse import iter_ndjson_lines
from sessionscope.loader import load_batches
from sessionscope.settings import Settings
from sessionscope.store.duckdb import DuckDBStore


def test_workers_store_the_same_rows(tmp_path: Path):
    docs = list(generate_sessions(1_200, days=10, seed=5, now=datetime(2026, 11, 1, tzinfo=UTC)))
    docs.append({"sessionId": "no-identity"})  # rejected the same way in both
    file = tmp_path / "in.ndjson.gz"
    with gzip.open(file, "wb") as f:
        f.write(b"\n".join(orjson.dumps(d) for d in docs) + b"\n\n")
    tables = []
    for workers in (0, 2):
        store = DuckDBStore(str(tmp_path / f"w{workers}.duckdb"))
        creds = apps.create_app(store, "x")
        # batches of 600 documents (about 1.4 MB): the workers get them, and return them, through files
        stats = load_batches(store, Settings(data_dir=tmp_path), creds.appid, iter_ndjson_lines(file, 600),
                             quiet=True, workers=workers)
        assert (stats.accepted, stats.rejected) == (1_200, 1)
        assert stats.first_errors[0].startswith("line 1201 (no-identity): user: needs")
        tables.append(store.query_arrow(
            "SELECT * EXCLUDE (app_id) FROM sessions ORDER BY session_id", []).to_pylist())
        tables.append(store.query_arrow("SELECT * EXCLUDE (app_id) FROM events ORDER BY session_id, seq", []).num_rows)
        store.close()
    assert tables[0] == tables[2] and tables[1] == tables[3] > 0


@pytest.mark.parametrize("workers", [0, 1])
def test_a_line_that_is_not_json_is_a_rejected_record_named_by_its_file_line(tmp_path: Path, workers: int):
    file = tmp_path / "bad.ndjson"
    docs = list(generate_sessions(3, seed=1, now=datetime(2026, 1, 1, tzinfo=UTC)))
    good = [orjson.dumps(d) for d in docs]
    file.write_bytes(good[0] + b"\n\n" + good[1] + b"\n{not json\n" + good[2] + b"\n")
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    creds = apps.create_app(store, "x")
    stats = load_batches(store, Settings(data_dir=tmp_path), creds.appid, iter_ndjson_lines(file, 10), quiet=True,
                         workers=workers)
    assert (stats.accepted, stats.rejected) == (3, 1)
    assert len(stats.first_errors) == 1 and stats.first_errors[0].startswith("line 4: not valid JSON"), stats.first_errors
    stored = store.query("SELECT session_id FROM sessions ORDER BY session_id", [])
    assert stored == sorted((d["sessionId"],) for d in docs)
    store.close()


class CountingStore(DuckDBStore):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.writes: list[int] = []

    def write_sessions(self, app_id, sessions, events):
        self.writes.append(sessions.num_rows)
        return super().write_sessions(app_id, sessions, events)


def test_validated_batches_are_written_in_groups_and_a_resent_id_keeps_its_last_document(tmp_path: Path):
    docs = list(generate_sessions(1_000, days=10, seed=7, now=datetime(2026, 11, 1, tzinfo=UTC)))
    again = dict(docs[10], location={**docs[10].get("location", {}), "city": "Resent"})
    docs.insert(150, again)  # batch 2 re-sends a session of batch 1; both go to the same write
    file = tmp_path / "in.ndjson"
    file.write_bytes(b"\n".join(orjson.dumps(d) for d in docs))
    store = CountingStore(str(tmp_path / "s.duckdb"))
    creds = apps.create_app(store, "x")
    stats = load_batches(store, Settings(data_dir=tmp_path), creds.appid, iter_ndjson_lines(file, 100),
                         quiet=True, write_rows=300)
    assert (stats.accepted, stats.rejected) == (1_001, 0)
    # 11 batches of up to 100: held until 300 rows; the re-sent id splits its group in two writes
    assert sum(store.writes) == 1_001 and len(store.writes) < 11
    assert store.query("SELECT count(*), count(DISTINCT session_id) FROM sessions", []) == [(1_000, 1_000)]
    assert store.query("SELECT city FROM sessions WHERE session_id = $1", [again["sessionId"]]) == [("Resent",)]
    events = sum(len(d.get("events") or []) for i, d in enumerate(docs) if i != 10)
    assert store.query("SELECT count(*) FROM events", []) == [(events,)]
    store.close()


@pytest.mark.parametrize("workers", [0, 1])
def test_lines_around_a_bad_line_are_all_written(tmp_path: Path, workers: int):
    docs = list(generate_sessions(250, days=5, seed=9, now=datetime(2026, 11, 1, tzinfo=UTC)))
    file = tmp_path / "in.ndjson"
    lines = [orjson.dumps(d) for d in docs]
    lines.insert(150, b"{oops")  # in the middle of the second batch of 100
    file.write_bytes(b"\n".join(lines) + b"\n")
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    creds = apps.create_app(store, "x")
    stats = load_batches(store, Settings(data_dir=tmp_path), creds.appid, iter_ndjson_lines(file, 100), quiet=True,
                         workers=workers)
    assert (stats.accepted, stats.rejected) == (250, 1)
    assert stats.first_errors[0].startswith("line 151: not valid JSON")
    assert store.query("SELECT count(*) FROM sessions", []) == [(250,)]
    store.close()
