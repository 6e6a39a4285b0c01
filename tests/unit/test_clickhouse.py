"""The ClickHouse engines on a real chDB: the dialect, parameter text, the tenant filter, the write path.

chDB runs one engine directory per process at a time, so every store here is closed by its fixture.
"""

from __future__ import annotations

import string
import time
from datetime import UTC, datetime
from pathlib import Path

import clickhouse_connect
import orjson
import pytest

from sessionscope import apps, shape
from sessionscope.catalog import SESSIONS
from sessionscope.demo import generate_sessions
from sessionscope.ingest import Limits, normalise_batch
from sessionscope.query.analytics import parse_analytics, plan_analytics
from sessionscope.query.dialects import CLICKHOUSE, DUCKDB
from sessionscope.query.plan import plan_list
from sessionscope.query.render import render_list
from sessionscope.query.render_analytics import render_analytics
from sessionscope.query.validate import parse_list
from sessionscope.store import ch_common, ch_params
from sessionscope.store.chdb import ChdbStore
from sessionscope.store.clickhouse import ClickHouseServerStore
from sessionscope.store.duckdb import DuckDBStore
from sessionscope.store.schema import EVENT_SCHEMA, SESSION_SCHEMA

NOW = datetime(2026, 1, 1)
APP = "ab" * 12
OTHER = "cd" * 12
HOSTILE = [
    "x'; DROP TABLE sessions; --",
    "back\\slash",
    "\\N",
    "tab\there",
    "new\nline\r\n",
    "quote' and \\' and \"",
    "{p2:String}",
    "nul\0byte",
    "émoji 🎉 ünï",
    "",
    "\\",
    "'",
    "]",
    "['a','b']",
    string.punctuation,
]


@pytest.fixture
def chdb_store(tmp_path: Path):
    store = ChdbStore(str(tmp_path / "ch"))
    yield store
    store.close()


@pytest.fixture
def http_path_store(tmp_path: Path):
    """The clickhouse:// store's code path (clickhouse-connect, its binding and Arrow inserts), on the
    client's in-process chDB backend since no ClickHouse server runs in the tests."""
    client = clickhouse_connect.get_client(interface="chdb", path=str(tmp_path / "cc"))
    store = ClickHouseServerStore(client=client)
    yield store
    store.close()


def _batch(app: str, n: int, seed: int):
    docs = list(generate_sessions(n, days=20, seed=seed, now=datetime(2026, 1, 1, tzinfo=UTC)))
    return docs, normalise_batch(app, docs, now=NOW, limits=Limits())


# -- the dialect --------------------------------------------------------------------------------------------


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_clickhouse_supplies_every_duckdb_key_with_the_same_inputs():
    for table in ("operators", "expressions"):
        duck, click = getattr(DUCKDB, table), getattr(CLICKHOUSE, table)
        assert set(click) == set(duck), f"{table}: missing {set(duck) - set(click)}, extra {set(click) - set(duck)}"
        for key, template in duck.items():
            assert _fields(click[key]) == _fields(template), (table, key)


@pytest.mark.parametrize(
    ("kind", "placeholder"),
    [
        ("String", "{p3:String}"),
        ("Int64", "{p3:Int64}"),
        ("Float64", "{p3:Float64}"),
        ("Bool", "{p3:Bool}"),
        ("DateTime", "{p3:DateTime64(0, 'UTC')}"),
        ("Array(String)", "{p3:Array(Nullable(String))}"),
        ("Array(Bool)", "{p3:Array(Nullable(Bool))}"),
    ],
)
def test_placeholders_are_typed_and_named(kind, placeholder):
    assert CLICKHOUSE.placeholder(3, kind) == placeholder
    assert CLICKHOUSE.named_params


def _list_sql(dialect, filters, app=APP):
    spec = parse_list(SESSIONS, {"filters": orjson.dumps(filters).decode()}, NOW)
    return render_list(dialect, plan_list(app, spec, shape.SESSION_COLUMNS))


def _analytics_sql(dialect, params, app=APP):
    spec = parse_analytics(SESSIONS, {k: orjson.dumps(v).decode() for k, v in params.items()}, NOW)
    return render_analytics(dialect, plan_analytics(app, spec))


def test_golden_list_sql():
    sql, params = _list_sql(CLICKHOUSE, [{"attribute": "device_model", "operator": "contains", "value": "Pix"}])
    assert sql == (
        f"SELECT {', '.join(shape.SESSION_COLUMNS)} FROM sessions WHERE app_id = {{p1:String}} AND uploaded_at "
        "BETWEEN {p2:DateTime64(0, 'UTC')} AND {p3:DateTime64(0, 'UTC')} AND position(model, {p4:String}) > 0 "
        "ORDER BY uploaded_at DESC, session_id ASC LIMIT {p5:Int64} OFFSET {p6:Int64}"
    )
    assert params == {"p1": APP, "p2": datetime(2025, 12, 2), "p3": NOW, "p4": "Pix", "p5": 51, "p6": 0}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"group_by": [{"attribute": "device_model"}, {"attribute": "session_uploadedon_day"}]},
        {"aggregation": [{"attribute": "user_session_count", "operator": "avg"}], "group_by": [{"attribute": "device_city"}]},
        {"filters": [{"attribute": "event_name", "operator": "in", "value": ["Buy"],
                      "property": {"name": "price", "operator": "greater", "value": 1}}]},
    ],
)
def test_every_scan_is_confined_to_the_tenant(params):
    """Each table the query reads is filtered on app_id right where it is read, on both dialects."""
    for dialect in (DUCKDB, CLICKHOUSE):
        sql, values = _analytics_sql(dialect, params)
        for table in ("sessions", "events"):
            scans = sql.count(f"FROM {table} ")
            assert sql.count(f"FROM {table} WHERE app_id = ") == scans, (dialect.name, table, sql)
        bound = values.values() if isinstance(values, dict) else values
        assert APP in bound and OTHER not in bound


# -- parameters as text -------------------------------------------------------------------------------------


def test_parameter_text_form():
    assert ch_params.to_text("a\\b\tc\nd'e") == "a\\\\b\\tc\\nd'e"
    assert ch_params.to_text(["a", "b'c", None]) == "['a','b\\'c',NULL]"
    assert ch_params.to_text(datetime(2023, 1, 2, 3, 4, 5)) == "2023-01-02 03:04:05"
    assert ch_params.to_text(True) == "true" and ch_params.to_text(False) == "false"
    assert ch_params.to_text(None) == "\\N"
    assert ch_params.to_text(1.5) == "1.5" and ch_params.to_text(-3) == "-3"
    with pytest.raises(ValueError):
        ch_params.to_text(datetime(2023, 1, 1, tzinfo=UTC))
    with pytest.raises(TypeError):
        ch_params.to_text(object())


@pytest.mark.parametrize("which", ["chdb", "clickhouse-connect"])
def test_hostile_strings_round_trip_as_data(which, request):
    store = request.getfixturevalue("chdb_store" if which == "chdb" else "http_path_store")
    for value in HOSTILE:
        rows = store.query(
            "SELECT {p1:String}, {p2:Array(Nullable(String))}, length({p1:String}), {p3:Nullable(String)}",
            {"p1": value, "p2": [value, None, value], "p3": value},
        )
        assert rows == [(value, [value, None, value], len(value.encode()), value)], repr(value)
    assert store.query("SELECT {p1:Nullable(String)} IS NULL", {"p1": None}) == [(True,)]
    when = datetime(1950, 6, 7, 8, 9, 10)  # before 1970: DateTime64 keeps it
    assert store.query("SELECT {p1:DateTime64(0, 'UTC')}, {p2:Bool}, {p3:Float64}", {"p1": when, "p2": False, "p3": 0.1}) == [
        (when, False, 0.1)
    ]
    # an app name is stored and read back verbatim, through the same binding
    creds = apps.create_app(store, HOSTILE[0] + HOSTILE[1])
    assert [a.name for a in apps.list_apps(store) if a.appid == creds.appid] == [HOSTILE[0] + HOSTILE[1]]
    assert store.query("SELECT count() FROM sessions", {}) == [(0,)]


@pytest.mark.parametrize("which", ["chdb", "clickhouse-connect"])
def test_hostile_filters_run_and_match_nothing(which, request):
    store = request.getfixturevalue("chdb_store" if which == "chdb" else "http_path_store")
    _, batch = _batch(APP, 50, seed=3)
    store.write_sessions(APP, batch.sessions, batch.events)
    for value in HOSTILE:
        for f in (
            {"attribute": "device_model", "operator": "equal", "value": value},
            {"attribute": "device_model", "operator": "in", "value": [value]},
            {"attribute": "device_model", "operator": "contains", "value": value + "~"},
            {"attribute": "user_custom_property", "property_name": value or "p", "operator": "equal", "value": value},
            {"attribute": "event_name", "operator": "in", "value": [value],
             "property": {"name": value or "p", "operator": "equal", "value": value}},
            {"attribute": "session_screen_list", "operator": "has_any", "value": [value]},
        ):
            sql, params = _list_sql(CLICKHOUSE, [f])
            assert len(value) < 4 or value not in sql  # (short ones like a quote occur in any SQL)
            assert store.query(sql, params) == [], f
    assert store.query("SELECT count() FROM sessions", {}) == [(50,)]


# -- the write path -----------------------------------------------------------------------------------------


def _numbers(store, app=APP) -> dict[str, tuple]:
    rows = store.query(
        "SELECT session_id, session_number, first_screen_name, first_referer FROM sessions WHERE app_id = "
        + store.dialect.placeholder(1, "String"),
        {"p1": app} if store.dialect.named_params else [app],
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def test_writes_match_duckdb_row_for_row(chdb_store, tmp_path):
    """Out-of-order batches, re-sent and replaced sessions: the same stored numbering as DuckDB."""
    duck = DuckDBStore(str(tmp_path / "d.duckdb"))
    docs, _ = _batch(APP, 900, seed=5)
    docs.sort(key=lambda d: d["sessionId"])  # arrival order unrelated to start times: users get renumbered
    chunks = [docs[i : i + 200] for i in range(0, len(docs), 200)] + [docs[100:400]]
    moved = dict(docs[10], user={"uxcamuserid": "someone-else"})  # a session that changes user
    chunks.append([moved])
    for chunk in chunks:
        batch = normalise_batch(APP, chunk, now=NOW, limits=Limits())
        for store in (duck, chdb_store):
            store.write_sessions(APP, batch.sessions, batch.events)
    assert _numbers(chdb_store) == _numbers(duck)
    count = "SELECT count(*) FROM events"
    assert chdb_store.query(count, {}) == duck.query(count, [])
    duck.close()


def test_a_crash_between_insert_and_delete_is_repaired_by_retrying(chdb_store):
    docs, batch = _batch(APP, 300, seed=9)
    chdb_store.write_sessions(APP, batch.sessions, batch.events)
    expected = _numbers(chdb_store)
    resent = normalise_batch(APP, docs[:120], now=NOW, limits=Limits())

    real = chdb_store.driver.command

    def crash(sql, params):
        if sql.startswith("DELETE"):
            raise RuntimeError("killed")
        return real(sql, params)

    chdb_store.driver.command = crash
    with pytest.raises(RuntimeError):
        chdb_store.write_sessions(APP, resent.sessions, resent.events)
    chdb_store.driver.command = real
    # the documented caveat: nothing lost, but old and new versions both visible until the batch is retried
    assert chdb_store.query("SELECT count(), uniqExact(session_id) FROM sessions", {})[0][1] == 300
    chdb_store.write_sessions(APP, resent.sessions, resent.events)
    assert chdb_store.query("SELECT count(), uniqExact(session_id) FROM sessions", {}) == [(300, 300)]
    assert _numbers(chdb_store) == expected
    events = sum(len(d.get("events") or []) for d in docs)
    assert chdb_store.query("SELECT count() FROM events", {}) == [(events,)]


def test_rows_written_under_a_clock_ahead_are_still_replaced(chdb_store, monkeypatch):
    """A write's version is its time in ns; rows written by a process whose clock ran ahead (another API
    host, the copy's machine) carry higher ones. Sending their sessions again, and renumbering their users,
    must still replace them: no session may be left twice."""
    docs, batch = _batch(APP, 300, seed=9)
    ahead = time.time_ns() + 3600 * 10**9
    with monkeypatch.context() as m:
        m.setattr(ch_common.time, "time_ns", lambda: ahead)
        chdb_store.write_sessions(APP, batch.sessions, batch.events)
    expected = _numbers(chdb_store)
    docs.sort(key=lambda d: d["sessionId"])
    for chunk in (docs[:120], docs[120:]):  # sent again: their users renumbered from their stored rows
        again = normalise_batch(APP, chunk, now=NOW, limits=Limits())
        chdb_store.write_sessions(APP, again.sessions, again.events)
    assert chdb_store.query("SELECT count(), uniqExact(session_id) FROM sessions", {}) == [(300, 300)]
    assert _numbers(chdb_store) == expected
    events = sum(len(d.get("events") or []) for d in docs)
    assert chdb_store.query("SELECT count() FROM events", {}) == [(events,)]


def test_a_copy_is_replaced_by_a_server_whose_clock_is_behind(chdb_store, tmp_path, monkeypatch):
    """`sessionscope copy` inserts rows as they are, at version 0, below every write's: sessions copied on
    a machine whose clock ran ahead of the server's, then sent again to that server, are not left twice."""
    from sessionscope.copy import copy_store

    duck = DuckDBStore(str(tmp_path / "d.duckdb"))
    apps.create_app(duck, "copied")
    appid = apps.list_apps(duck)[0].appid
    docs, batch = _batch(appid, 200, seed=4)
    duck.write_sessions(appid, batch.sessions, batch.events)
    copy_store(duck, chdb_store)
    duck.close()
    assert chdb_store.query("SELECT DISTINCT write_version FROM sessions", {}) == [(0,)]
    expected = _numbers(chdb_store, appid)
    behind = time.time_ns() - 3600 * 10**9
    with monkeypatch.context() as m:
        m.setattr(ch_common.time, "time_ns", lambda: behind)
        again = normalise_batch(appid, docs[:80], now=NOW, limits=Limits())
        chdb_store.write_sessions(appid, again.sessions, again.events)
    assert chdb_store.query("SELECT count(), uniqExact(session_id) FROM sessions", {}) == [(200, 200)]
    assert _numbers(chdb_store, appid) == expected


def test_an_erasure_takes_the_events_of_a_session_written_meanwhile(chdb_store):
    """On a ClickHouse server other API processes write while `sessionscope erase` runs: a session of an
    erased user stored after the erasure read the user's session ids goes, with its events."""
    docs, batch = _batch(APP, 60, seed=3)
    chdb_store.write_sessions(APP, batch.sessions, batch.events)
    user = chdb_store.query("SELECT uxcamuserid FROM sessions GROUP BY uxcamuserid ORDER BY count() DESC LIMIT 1", {})[0][0]
    late = dict(docs[0], sessionId="written-meanwhile", user={"uxcamuserid": user},
                events=[{"name": "Tap", "timeSec": 1.0}, {"name": "Tap", "timeSec": 2.0}])
    meanwhile = normalise_batch(APP, [late], now=NOW, limits=Limits())
    sessions, _ = ch_common.received.split(meanwhile.sessions)

    def another_server_writes(erased):  # after the erasure's reads, before its deletes
        chdb_store.driver.insert_arrow("sessions", ch_common._version_column(sessions.cast(SESSION_SCHEMA), 1))
        chdb_store.driver.insert_arrow("events", ch_common._version_column(meanwhile.events.cast(EVENT_SCHEMA), 1))

    erased = chdb_store.erase_users(APP, [user], [], before_commit=another_server_writes)
    assert "written-meanwhile" not in erased.session_ids
    left = "SELECT count() FROM {table} WHERE uxcamuserid = {u:String}"
    assert chdb_store.query(left.replace("{table}", "sessions"), {"u": user}) == [(0,)]
    assert chdb_store.query(left.replace("{table}", "events"), {"u": user}) == [(0,)]


def test_migrations_are_versioned_and_rerunnable(tmp_path):
    path = str(tmp_path / "ch")
    store = ChdbStore(path)
    assert store.schema_version() == len(ch_common.MIGRATIONS) == 2
    store.migrate()  # nothing left to do
    assert store.query("SELECT count() FROM schema_migrations", {}) == [(2,)]
    store.close()
    again = ChdbStore(path)
    assert again.schema_version() == 2
    again.close()


def _users_by_text(store, app=APP) -> dict[str, int]:
    """Sessions per user, grouped by the id text, read without the key."""
    return dict(store.query("SELECT uxcamuserid, count() FROM sessions WHERE app_id = {a:String} GROUP BY uxcamuserid", {"a": app}))


def test_migration_2_keys_the_users_of_a_version_1_store(tmp_path, monkeypatch):
    """A store written before user keys: migration 2 gives every stored session its user's key (the id's
    SipHash128), later writes get it at insert, and the API's user counts equal a count of the id texts."""
    path = str(tmp_path / "ch")
    monkeypatch.setattr(ch_common, "MIGRATIONS", ch_common.MIGRATIONS[:1])
    old = ChdbStore(path)
    docs, batch = _batch(APP, 300, seed=5)
    old.write_sessions(APP, batch.sessions, batch.events)
    assert old.query("SELECT count() FROM system.columns WHERE table = 'sessions' AND name = 'user_key'", {}) == [(0,)]
    old.close()
    monkeypatch.undo()

    store = ChdbStore(path)
    try:
        assert store.schema_version() == 2
        # the stored rows get the key written (a background mutation), not only computed when read
        parts = "SELECT name, max(column = 'user_key') AS keyed FROM system.parts_columns WHERE table = 'sessions' AND active GROUP BY name"
        for _ in range(600):
            counts = store.query(f"SELECT count(), sum(keyed) FROM ({parts})", {})[0]
            if counts[0] == counts[1]:
                break
            time.sleep(0.05)
        assert counts[0] > 0 and counts[0] == counts[1], counts
        more_docs, more = _batch(APP, 200, seed=6)
        store.write_sessions(APP, more.sessions, more.events)
        users = _users_by_text(store)
        assert sum(users.values()) == len({d["sessionId"] for d in docs + more_docs})
        keys = store.query(
            "SELECT uxcamuserid, groupUniqArray(toString(user_key)) FROM sessions WHERE app_id = {a:String} GROUP BY uxcamuserid",
            {"a": APP},
        )
        assert len(keys) == len(users)
        assert all(len(k) == 1 for _, k in keys)  # one key per user, on every session
        assert len({k[0] for _, k in keys}) == len(users)  # and no two users share one
        assert store.query(
            "SELECT countIf(user_key != reinterpretAsUInt128(sipHash128(uxcamuserid))) FROM sessions", {}
        ) == [(0,)]
        # the API counts users by the key (the default window holds every session): the same as the texts here
        sql, params = _analytics_sql(CLICKHOUSE, {})
        assert "uniqExact(user_key)" in sql
        row = store.query(sql, params)[0]
        assert (row[0], row[1]) == (sum(users.values()), len(users))
    finally:
        store.close()


def test_a_second_process_on_the_same_chdb_store_gets_a_clear_error(tmp_path):
    import subprocess
    import sys

    from sessionscope.errors import StoreUnavailable

    store = ChdbStore(str(tmp_path / "ch"))
    code = (
        "from sessionscope.store import open_store\nfrom sessionscope.errors import StoreUnavailable\n"
        f"try:\n    open_store('chdb://{tmp_path / 'ch'}')\nexcept StoreUnavailable as e:\n    print('unavailable', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    store.close()
    assert "unavailable" in out.stdout and "another process" in out.stdout, out.stdout + out.stderr
    assert StoreUnavailable


def test_the_cluster_ddl_parses(chdb_store):
    from sessionscope.store.ch_common import cluster_ddl

    statements = cluster_ddl("main")
    assert sum("ENGINE = Distributed(main" in s for s in statements) == 2
    assert sum("ReplicatedMergeTree" in s for s in statements) == 5
    # the user key: added to every shard's table and to the Distributed one, filled in on the shards
    assert [s.split(" user_key")[0] for s in statements if "user_key" in s] == [
        "ALTER TABLE sessions_local ON CLUSTER main ADD COLUMN IF NOT EXISTS",
        "ALTER TABLE sessions ON CLUSTER main ADD COLUMN IF NOT EXISTS",
        "ALTER TABLE sessions_local ON CLUSTER main MATERIALIZE COLUMN",
    ]
    for stmt in statements:  # formatQuery parses without running (a cluster needs Keeper)
        assert chdb_store.query("SELECT formatQuery({p1:String}) != ''", {"p1": stmt}) == [(True,)]
