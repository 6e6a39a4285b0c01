"""Results reused until the next write: never stale after a write is acknowledged, keyed on every value."""

import threading
from datetime import datetime
from pathlib import Path

import pytest

from sessionscope import apps
from sessionscope.ingest import Limits, normalise_batch
from sessionscope.store.duckdb import DuckDBStore
from sessionscope.store.results import NotCached, ResultCache, cached_only, reading

APP = "ab" * 12
COUNT = "SELECT count(*) FROM sessions WHERE app_id = $1"


def write(store: DuckDBStore, ids: list[str], app: str = APP) -> None:
    docs = [{"sessionId": s, "property": {"uploadedServerTime": "2026-01-01T00:00:00Z"}, "user": {"uxcamuserid": "u"}}
            for s in ids]
    b = normalise_batch(app, docs, now=datetime(2026, 1, 1), limits=Limits())
    assert not b.rejected
    store.write_sessions(app, b.sessions, b.events)


def test_a_repeated_query_is_served_until_a_write_commits(tmp_path: Path):
    store = DuckDBStore(str(tmp_path / "s.duckdb"), result_cache=8)
    write(store, ["a", "b"])
    assert store.query(COUNT, [APP]) == [(2,)]
    hits = store.results.hits
    assert store.query(COUNT, [APP]) == [(2,)]
    assert store.results.hits == hits + 1
    write(store, ["c"])  # committed: the next answer is recomputed
    assert store.query(COUNT, [APP]) == [(3,)]
    store.put_video(APP, "a", "/x.mp4", "video/mp4", 1)
    assert store.query("SELECT count(*) FROM sessions WHERE has_video", []) == [(1,)]
    store.put_video(APP, "b", "/y.mp4", "video/mp4", 1)
    assert store.query("SELECT count(*) FROM sessions WHERE has_video", []) == [(2,)]
    creds = apps.create_app(store, "x")  # apps change through execute
    assert apps.authenticate(store, creds.appid, creds.apikey, "apikey")
    apps.rotate_key(store, creds.appid, "apikey")
    assert not apps.authenticate(store, creds.appid, creds.apikey, "apikey")


def test_values_of_another_type_or_app_are_other_keys(tmp_path: Path):
    store = DuckDBStore(str(tmp_path / "s.duckdb"), result_cache=8)
    write(store, ["a"])
    assert store.query(COUNT, [APP]) == [(1,)]
    assert store.query(COUNT, ["cd" * 12]) == [(0,)]
    assert store.query("SELECT $1::VARCHAR", [1]) == [("1",)]
    assert store.query("SELECT $1::VARCHAR", [True]) == [("true",)]
    assert store.query("SELECT $1::VARCHAR", [1.0]) == [("1.0",)]


def test_a_result_computed_while_a_write_committed_is_not_kept():
    cache = ResultCache(max_entries=8)
    started, release = threading.Event(), threading.Event()

    def slow_query():
        started.set()
        release.wait(5)
        return [("old",)]

    t = threading.Thread(target=lambda: cache.rows("q", [], slow_query))
    t.start()
    started.wait(5)
    cache.bump()  # a write commits while the query runs
    release.set()
    t.join()
    assert cache.rows("q", [], lambda: [("new",)]) == [("new",)]


def test_bounded_by_entries_and_rows():
    cache = ResultCache(max_entries=2, max_rows=3)
    for q in ("a", "b", "c"):
        cache.rows(q, [], lambda q=q: [(q,)])
    assert cache.rows("a", [], lambda: [("again",)]) == [("again",)]  # the oldest went first
    big = [(i,) for i in range(4)]
    cache.rows("big", [], lambda: big)
    assert cache.rows("big", [], lambda: [("recomputed",)]) == [("recomputed",)]
    odd = ResultCache(max_entries=2)
    odd.rows("q", [b"bytes"], lambda: [(1,)])  # a value it cannot key: run, never kept
    assert odd.rows("q", [b"bytes"], lambda: [(2,)]) == [(2,)]
    off = ResultCache(max_entries=0)
    assert off.rows("q", [], lambda: [(1,)]) == [(1,)] and off.misses == 0


def test_cached_only_answers_from_kept_results_or_raises_without_running():
    cache = ResultCache(max_entries=8)
    ran: list[str] = []

    def run(q: str) -> list[tuple[str]]:
        ran.append(q)
        return [(q,)]

    with cached_only(), pytest.raises(NotCached):
        cache.rows("q", [1], lambda: run("q"))
    assert ran == [] and cache.misses == 0  # nothing ran, nothing counted
    assert cache.rows("q", [1], lambda: run("q")) == [("q",)]  # outside the block it runs and is kept
    with cached_only():
        assert cache.rows("q", [1], lambda: run("again")) == [("q",)]
        with pytest.raises(NotCached):
            cache.rows("q", [2], lambda: run("q2"))  # another value: another key
    cache.bump()
    with cached_only(), pytest.raises(NotCached):
        cache.rows("q", [1], lambda: run("q"))  # a write emptied it
    assert ran == ["q"]
    for off in (ResultCache(max_entries=0), cache):  # no cache, or a value it cannot key: never inline
        with cached_only(), pytest.raises(NotCached):
            off.rows("q", [b"bytes"], lambda: run("x"))
    assert ran == ["q"]


def test_chdb_keeps_results_until_its_next_write(tmp_path: Path):
    """chDB's directory is held by one process, which sees every write: it keeps results like DuckDB."""
    from sessionscope.store.chdb import ChdbStore

    store = ChdbStore(str(tmp_path / "ch"), result_cache=8)
    try:
        count = "SELECT count() FROM sessions WHERE app_id = {app:String}"
        write(store, ["a", "b"])
        assert store.query(count, {"app": APP}) == [(2,)]
        hits = store.results.hits
        assert store.query(count, {"app": APP}) == [(2,)]
        assert store.results.hits == hits + 1
        assert store.query(count, {"app": "cd" * 12}) == [(0,)]  # another value, another key
        write(store, ["c"])
        assert store.query(count, {"app": APP}) == [(3,)]
        store.put_video(APP, "a", "/x.mp4", "video/mp4", 1)
        assert store.query("SELECT count() FROM sessions WHERE has_video", {}) == [(1,)]
        creds = apps.create_app(store, "x")  # apps change through execute
        assert apps.authenticate(store, creds.appid, creds.apikey, "apikey")
        apps.rotate_key(store, creds.appid, "apikey")
        assert not apps.authenticate(store, creds.appid, creds.apikey, "apikey")
    finally:
        store.close()


OTHER = "cd" * 12


@pytest.mark.parametrize("engine", ["duckdb", "chdb"])
def test_a_write_discards_what_was_read_for_its_app_and_for_none_not_for_other_apps(tmp_path: Path, engine: str):
    if engine == "duckdb":
        store, count, videos, everything = (
            DuckDBStore(str(tmp_path / "s.duckdb"), result_cache=16), COUNT,
            "SELECT count(*) FROM sessions WHERE app_id = $1 AND has_video", "SELECT count(*) FROM sessions")
        bind = lambda app: [app]  # noqa: E731
    else:
        from sessionscope.store.chdb import ChdbStore

        store = ChdbStore(str(tmp_path / "ch"), result_cache=16)
        count = "SELECT count() FROM sessions WHERE app_id = {app:String}"
        videos, everything = count + " AND has_video", "SELECT count() FROM sessions"
        bind = lambda app: {"app": app}  # noqa: E731
    try:
        write(store, ["a", "b"])
        write(store, ["x"], OTHER)

        def read(app: str | None, sql: str, params: object) -> tuple[int, bool]:
            """The count, and whether it was a kept result."""
            hits = store.results.hits
            if app is None:
                rows = store.query(sql, params)
            else:
                with reading(app):
                    rows = store.query(sql, params)
            return rows[0][0], store.results.hits == hits + 1

        assert read(APP, count, bind(APP)) == (2, False)
        assert read(OTHER, count, bind(OTHER)) == (1, False)
        no_app = [] if engine == "duckdb" else {}
        assert read(None, everything, no_app) == (3, False)
        assert read(APP, count, bind(APP)) == (2, True)
        assert read(OTHER, count, bind(OTHER)) == (1, True)
        # a read scoped to one app that does not bind its id is kept as a read of no app
        assert read(OTHER, count, bind(APP)) == (2, False)
        assert read(OTHER, count, bind(APP)) == (2, True)

        write(store, ["c"])  # APP's write
        assert read(OTHER, count, bind(OTHER)) == (1, True)  # kept: OTHER's rows did not change
        assert read(APP, count, bind(APP)) == (3, False)
        assert read(OTHER, count, bind(APP)) == (3, False)  # kept as no app's: discarded
        assert read(None, everything, no_app) == (4, False)  # read for no app: any write discards it

        assert read(OTHER, videos, bind(OTHER)) == (0, False)
        assert read(OTHER, videos, bind(OTHER)) == (0, True)
        store.put_video(OTHER, "x", "/x.mp4", "video/mp4", 1)  # OTHER's write
        assert read(APP, count, bind(APP)) == (3, True)
        assert read(OTHER, videos, bind(OTHER)) == (1, False)
        assert read(None, everything, no_app) == (4, False)

        apps.create_app(store, "x")  # a write of no app: every kept result goes
        assert read(APP, count, bind(APP)) == (3, False)
        assert read(OTHER, count, bind(OTHER)) == (1, False)
    finally:
        store.close()


@pytest.mark.parametrize(("writer", "kept"), [(OTHER, True), (APP, False), (None, False)])
def test_a_result_is_not_kept_when_a_write_that_stales_it_commits_while_it_runs(writer: str | None, kept: bool):
    cache = ResultCache(max_entries=8)
    started, release = threading.Event(), threading.Event()

    def slow_query() -> list[tuple[str]]:
        started.set()
        release.wait(5)
        return [("old",)]

    def read_for_app() -> None:
        with reading(APP):
            cache.rows("q", [APP], slow_query)

    t = threading.Thread(target=read_for_app)
    t.start()
    started.wait(5)
    cache.bump(writer)  # a write commits while the query runs
    release.set()
    t.join()
    with reading(APP):
        assert cache.rows("q", [APP], lambda: [("new",)]) == [("old",) if kept else ("new",)]


def test_chdb_writes_read_the_engine_not_kept_results(tmp_path: Path):
    """What a write reads to decide what it writes (stored ids, users' summaries, kept replays) comes from
    the engine, never from kept results, whichever app's reads the calling context is scoped to."""
    from sessionscope.store.chdb import ChdbStore

    store = ChdbStore(str(tmp_path / "ch"), result_cache=16)
    try:
        write(store, ["a", "b"])
        store.put_video(APP, "a", "/x.mp4", "video/mp4", 1)
        counted = (store.results.hits, store.results.misses)
        with reading(OTHER):
            write(store, ["a", "c"])  # replaces "a" (its replay kept), adds "c"
            assert store.put_video(APP, "c", "/c.mp4", "video/mp4", 1)
        assert (store.results.hits, store.results.misses) == counted
        rows = store.query("SELECT session_id, has_video FROM sessions WHERE app_id = {app:String} ORDER BY 1",
                           {"app": APP})
        assert rows == [("a", True), ("b", False), ("c", True)]
    finally:
        store.close()


def test_reads_of_no_app_cannot_push_an_apps_results_out():
    """Key checks for made-up app ids (anyone can send them) are reads of no app: they have a share of their
    own, and an app's kept results stay."""
    cache = ResultCache(max_entries=16)
    with reading(APP):
        cache.rows("q", [APP], lambda: [("kept",)])
    for i in range(300):  # 300 requests with random app ids and no valid key
        cache.rows("SELECT apikey_hash FROM apps WHERE appid = $1", [f"{i:024x}"], lambda: [])
    with reading(APP):
        assert cache.rows("q", [APP], lambda: [("recomputed",)]) == [("kept",)]
    assert len(cache._unscoped) == cache.max_unscoped == 2


def test_a_large_key_is_not_kept():
    """A read whose key is over MAX_KEY_BYTES (a 30 MB list of filter values) runs and is not kept; under
    cached_only it is a miss at once."""
    from sessionscope.store.results import MAX_KEY_BYTES

    cache = ResultCache(max_entries=8)
    huge = ["x" * 1000] * (MAX_KEY_BYTES // 1000 + 1)
    with reading(APP):
        assert cache.rows("q", [APP, huge], lambda: [(1,)]) == [(1,)]
        assert cache.rows("q", [APP, huge], lambda: [(2,)]) == [(2,)]
        with cached_only(), pytest.raises(NotCached):
            cache.rows("q", [APP, huge], lambda: [(3,)])
        small = huge[:10]
        cache.rows("q", [APP, small], lambda: [(4,)])
        assert cache.rows("q", [APP, small], lambda: [(5,)]) == [(4,)]
    answer = ("answer", "/v2/session", APP, b"", b"x" * (MAX_KEY_BYTES + 1), 0)
    assert cache.kept(answer, lambda: b"a", lambda _: True, app=APP) == b"a"
    assert cache.kept(answer, lambda: b"b", lambda _: True, app=APP) == b"b"
