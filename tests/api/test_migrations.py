"""Schema migrations: a store created at schema version 1 (the first released) is migrated by the current code,
keeps every row, answers through the API, takes writes, and ends with exactly the schema a new store gets.

tests/fixtures/schema-v1/ holds the version-1 DDL as migration 1 created it (ddl.sql, frozen) and a small data
set written by the code of that version (Parquet, one file per table): 1 app, 40 sessions, their events.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from sessionscope.store.duckdb import MIGRATIONS, DuckDBStore
from support.server import Creds, Server

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema-v1"
V1_CREDS = Creds("0123456789abcdef0000a1a1", "sk_fixture_v1_data_access_key_000000", "ik_fixture_v1_ingest_key_0000000000")
TABLES = ("apps", "sessions", "events", "videos")
ALL_TIME = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": "2000-01-01", "upper": "2099-12-31"},
}


def build_v1_store(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute((FIXTURE / "ddl.sql").read_text())
        for table in TABLES:
            con.execute(f"INSERT INTO {table} SELECT * FROM read_parquet(?)", [str(FIXTURE / f"{table}.parquet")])
    finally:
        con.close()


def schema_of(path: Path) -> dict[str, list[tuple[str, str]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        out.setdefault(table, []).append((column, kind))
    return out


def test_fixture_is_version_1(tmp_path: Path) -> None:
    db = tmp_path / "v1.duckdb"
    build_v1_store(db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT max(version) FROM schema_migrations").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM sessions").fetchall() == [(40,)]
    finally:
        con.close()


def test_current_code_migrates_a_version_1_store(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    build_v1_store(db)
    before = duckdb.connect(str(db), read_only=True)
    try:
        v1_sessions = {
            r[0]: r[1:]
            for r in before.execute("SELECT session_id, uxcamuserid, session_number FROM sessions").fetchall()
        }
        v1_events = before.execute("SELECT count(*) FROM events").fetchall()[0][0]
    finally:
        before.close()

    latest = max(v for v, _ in MIGRATIONS)
    store = DuckDBStore(str(db))  # opening migrates
    try:
        assert store.schema_version() == latest
        applied = [r[0] for r in store.query("SELECT version FROM schema_migrations ORDER BY version", [])]
        assert applied == list(range(1, latest + 1))
        # migration 2 summed up every stored user's sessions into user_state
        state = store.query("SELECT uxcamuserid, session_count FROM user_state", [])
        assert dict(state) == Counter(user for user, _ in v1_sessions.values())
        assert len(state) == len(dict(state))
        # migration 3 gave every user one integer key, on its state row and on all its sessions
        keys = store.query(
            "SELECT s.uxcamuserid, count(DISTINCT s.user_key), count(s.user_key), count(*), any_value(u.user_key), "
            "any_value(s.user_key) FROM sessions s JOIN user_state u USING (app_id, uxcamuserid) GROUP BY 1",
            [],
        )
        assert {r[0] for r in keys} == set(dict(state))
        assert all(r[1] == 1 and r[2] == r[3] and r[4] == r[5] for r in keys)
        assert sorted(r[4] for r in keys) == list(range(1, len(keys) + 1))
    finally:
        store.close()

    # the migrated store has exactly the schema a store created today has
    fresh = tmp_path / "fresh.duckdb"
    DuckDBStore(str(fresh)).close()
    assert schema_of(db) == schema_of(fresh)

    server = Server(data_dir=tmp_path, store_url=f"duckdb:///{db}")
    server.start()
    try:
        with server.client() as client:
            rows = client.get(
                "/v2/session",
                params={"filters": json.dumps([ALL_TIME]), "page_size": 500},
                headers=V1_CREDS.read_headers,
            ).json()["data"]
            assert {r["sessionId"] for r in rows} == set(v1_sessions)
            for r in rows:
                assert (r["user"]["uxcamuserid"], r["sessionNumber"]) == v1_sessions[r["sessionId"]]
            r = client.get(
                "/v2/session/analytics", params={"filters": json.dumps([ALL_TIME])}, headers=V1_CREDS.read_headers
            )
            assert r.status_code == 200 and r.json()["data"][0]["session_count"] == 40
            # writes work on the migrated store, with the same key
            doc = {"sessionId": "after-migration", "user": {"kUXCam_UserIdentity": "m"}, "device": {"platform": "ios"}}
            r = client.post("/v2/ingest/sessions", json=[doc], headers=V1_CREDS.ingest_headers)
            assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    finally:
        server.stop()
    # opening again applies nothing twice
    store = DuckDBStore(str(db))
    try:
        assert store.schema_version() == latest
        assert store.query("SELECT count(*) FROM schema_migrations", []) == [(latest,)]
        assert store.query("SELECT count(*) FROM sessions", []) == [(41,)]
        assert store.query("SELECT sum(session_count), count(*) FROM user_state", []) == [(41, len(state) + 1)]
        # the user written after the migration got the next key
        assert store.query("SELECT user_key FROM sessions WHERE session_id = 'after-migration'", []) == [
            (len(state) + 1,)
        ]
        assert store.query("SELECT count(*) FROM events", []) == [(v1_events,)]
    finally:
        store.close()


def test_a_failed_migration_leaves_the_store_at_its_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A migration that fails half-way is rolled back whole; the store stays usable at the old version."""
    db = tmp_path / "store.duckdb"
    build_v1_store(db)
    latest = max(v for v, _ in MIGRATIONS)
    broken = [*MIGRATIONS, (latest + 1, ["ALTER TABLE sessions ADD COLUMN probe_column VARCHAR", "SELECT * FROM no_such_table"])]
    monkeypatch.setattr("sessionscope.store.duckdb.MIGRATIONS", broken)
    with pytest.raises(duckdb.Error):
        DuckDBStore(str(db))
    monkeypatch.setattr("sessionscope.store.duckdb.MIGRATIONS", MIGRATIONS)
    store = DuckDBStore(str(db))
    try:
        assert store.schema_version() == latest
        columns = [r[0] for r in store.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'sessions'", [])]
        assert "probe_column" not in columns
        assert store.query("SELECT count(*) FROM sessions", []) == [(40,)]
    finally:
        store.close()


def test_a_copy_reads_its_source_as_it_is(tmp_path: Path) -> None:
    """`sessionscope copy --from FILE` (a plain path, as the README writes it) opens the source read-only: a
    version-1 store is copied without being migrated, and the file's bytes are unchanged."""
    import hashlib

    from support.server import cli

    db = tmp_path / "old.duckdb"
    build_v1_store(db)
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    env = Server(data_dir=tmp_path / "data", store_url=f"chdb:///{tmp_path / 'ch'}").env
    result = cli(env, "copy", "--from", str(db), "--to", f"chdb:///{tmp_path / 'ch'}", check=False)
    assert result.returncode == 0, result.stderr
    assert "copied 1 apps, 40 sessions" in result.stdout, result.stdout
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT max(version) FROM schema_migrations").fetchall() == [(1,)]
    finally:
        con.close()
