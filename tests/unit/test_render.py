"""The compiler: tenant filter by construction, user values only as bound parameters."""

from datetime import datetime

import duckdb
import orjson
import pytest

from sessionscope import shape
from sessionscope.catalog import SESSIONS
from sessionscope.query.dialects import DUCKDB
from sessionscope.query.plan import Scope, plan_list
from sessionscope.query.render import render_list
from sessionscope.query.validate import parse_list
from sessionscope.store.duckdb import DuckDBStore

NOW = datetime(2023, 1, 30)
HOSTILE = "x'; DROP TABLE sessions; --"


def compile_(filters, app="a" * 24):
    spec = parse_list(SESSIONS, {"filters": orjson.dumps(filters).decode()}, NOW)
    return render_list(DUCKDB, plan_list(app, spec, shape.SESSION_COLUMNS))


def test_every_query_starts_with_the_tenant_filter():
    sql, params = compile_([{"attribute": "device_model", "operator": "equal", "value": "x"}])
    assert " WHERE app_id = $1::VARCHAR AND " in sql
    assert params[0] == "a" * 24


def test_cheap_filters_are_tested_first_whatever_the_request_order():
    """ClickHouse evaluates conditions as written: a screen-list test after `is_crashed` reads the lists of
    the crashed sessions only. Each value stays bound to its own placeholder."""
    sql, params = compile_([
        {"attribute": "session_screen_list", "operator": "has_any", "value": ["Cart"]},
        {"attribute": "user_custom_property", "property_name": "plan", "operator": "equal", "value": "pro"},
        {"attribute": "device_model", "operator": "equal", "value": "Pixel"},
        {"attribute": "session_crashed", "operator": "equal", "value": True},
    ])
    where = sql.split(" WHERE ", 1)[1]
    # fixed-width, then text, then lists and maps (those two in the request's order)
    order = [where.index(c) for c in ("is_crashed", "model", "screens", "uprops")]
    assert order == sorted(order), where
    assert params[3:8] == [True, "Pixel", ["Cart"], "plan", "pro"]


def test_a_scope_needs_an_app():
    spec = parse_list(SESSIONS, {}, NOW)
    with pytest.raises(ValueError):
        Scope("", SESSIONS, spec.window, ())


@pytest.mark.parametrize(
    "f",
    [
        {"attribute": "device_model", "operator": "equal", "value": HOSTILE},
        {"attribute": "device_model", "operator": "in", "value": [HOSTILE]},
        {"attribute": "device_model", "operator": "contains", "value": HOSTILE},
        {"attribute": "user_custom_property", "property_name": HOSTILE, "operator": "equal", "value": HOSTILE},
        {"attribute": "event_name", "operator": "in", "value": [HOSTILE], "property": {"name": HOSTILE, "operator": "equal", "value": HOSTILE}},
        {"attribute": "session_screen_list", "operator": "has_any", "value": [HOSTILE]},
    ],
)
def test_user_text_never_reaches_sql_text(f, tmp_path):
    sql, params = compile_([f])
    assert HOSTILE not in sql and "DROP" not in sql
    assert any(HOSTILE == p or (isinstance(p, list) and HOSTILE in p) for p in params)
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    assert store.query(sql, params) == []  # runs, matches nothing, and the table is still there
    assert store.query("SELECT count(*) FROM sessions", []) == [(0,)]


def test_query_layer_imports_no_driver_or_framework():
    import ast
    from pathlib import Path

    import sessionscope.query as q

    forbidden = {"duckdb", "chdb", "clickhouse_connect", "fastapi", "starlette", "httpx", "uvicorn"}
    for path in Path(q.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
    assert duckdb  # the test itself may use it


def test_a_page_of_sessions_is_cut_on_its_keys_then_read_within_the_app(tmp_path):
    """DuckDB cuts a page on (time, id) and reads only its rows whole (Dialect.late_rows). Both scans are
    confined to the app, so a second app holding the very same session ids and times adds nothing; every
    page, deep ones and the last, equals the plain query's."""
    import dataclasses
    from datetime import UTC

    from sessionscope.demo import generate_sessions
    from support.data import store_for_apps

    now = datetime(2026, 1, 1)
    docs = list(generate_sessions(400, days=10, seed=3, now=now.replace(tzinfo=UTC)))
    apps = ["a" * 24, "b" * 24]
    store = store_for_apps(DuckDBStore(str(tmp_path / "s.duckdb")), apps, docs, now)
    plain = dataclasses.replace(DUCKDB, late_rows=False)
    filters = [[], [{"attribute": "device_platform", "operator": "equal", "value": "ios"}]]
    for f in filters:
        for page in (1, 2, 5, 9, 40):
            params = {"filters": orjson.dumps(f).decode(), "page": str(page), "page_size": "50"}
            plan = plan_list(apps[0], parse_list(SESSIONS, params, now), shape.SESSION_COLUMNS)
            sql, values = render_list(DUCKDB, plan)
            assert "WITH page AS" in sql
            assert sql.count("FROM sessions ") == sql.count("FROM sessions WHERE app_id = ") == 2
            assert [v for v in values if v in apps] == [apps[0], apps[0]]
            late = store.query(sql, values)
            assert late == store.query(*render_list(plain, plan)), (f, page)
            ids = [row[shape.SESSION_COLUMNS.index("session_id")] for row in late]
            assert len(ids) == len(set(ids))
            if not f:  # every session is in the window: 51 rows (a page and one more), fewer at the end
                assert len(late) == max(0, min(51, len(docs) - (page - 1) * 50)), page
            elif page == 1:
                assert 0 < len(late)
    store.close()


@pytest.mark.parametrize(
    ("f", "bound"),
    [
        # an integer against a float column is bound as a float (ClickHouse compares two floats quicker than a
        # float and an Int64)
        ({"attribute": "session_duration", "operator": "greater", "value": 60}, (60.0, "Float64")),
        ({"attribute": "session_duration", "operator": "less", "value": "-7"}, (-7.0, "Float64")),
        ({"attribute": "session_duration", "operator": "greater", "value": 2**53}, (float(2**53), "Float64")),
        # ... one no float equals too: DuckDB compares a DOUBLE with a BIGINT as two doubles, and the engines
        # give one answer (ClickHouse compared it exactly, and never matched "9007199254740993" stored as text)
        ({"attribute": "session_duration", "operator": "greater", "value": 2**53 + 1}, (float(2**53 + 1), "Float64")),
        ({"attribute": "session_duration", "operator": "greater", "value": 1.5}, (1.5, "Float64")),
        # an integer column keeps its integer, and a numeric JSON property is compared as a float
        ({"attribute": "session_gesture_count", "operator": "greater", "value": 3}, (3, "Int64")),
        ({"attribute": "user_custom_property", "property_name": "age", "operator": "greater", "value": 30},
         (30.0, "Float64")),
    ],
)
def test_integer_values_are_bound_as_the_float_they_equal_for_float_expressions(f, bound):
    from sessionscope.query.dialects import CLICKHOUSE

    spec = parse_list(SESSIONS, {"filters": orjson.dumps([f]).decode()}, NOW)
    sql, params = render_list(CLICKHOUSE, plan_list("a" * 24, spec, shape.SESSION_COLUMNS))
    value, kind = bound
    name = next(k for k, v in params.items() if v == value and type(v) is type(value))
    assert f"{{{name}:{kind}}}" in sql
