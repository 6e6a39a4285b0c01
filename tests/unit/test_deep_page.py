"""Pages whose keys are read from the window's newest rows only (query/deep.py), on both embedded engines.

Every page of sessions, of events and of users, with filters on the session, on its events and on the event
itself, is read twice: from the plan as it is and from the plan `narrowed` returns (with a Top-N size of three
pages, so that most pages of sessions and events lie deeper; users pages are narrowed on every page). Both
must give the same rows (a user's totals over the whole window included), and together the order a plain
Python sort of the documents gives. 40 sessions share one upload second, so some pages end inside that second. A second
app holds the very same documents: a count that saw them would narrow too far and lose rows. The service's
own path is run on DuckDB past its real limit, 5,000 rows.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from sessionscope import service, shape
from sessionscope.catalog import EVENTS, SESSIONS, USERS
from sessionscope.demo import generate_sessions
from sessionscope.query.deep import narrowed
from sessionscope.query.dialects import DUCKDB
from sessionscope.query.plan import ListPlan, plan_list
from sessionscope.query.render import render_list
from sessionscope.query.validate import parse_list
from sessionscope.settings import Settings

NOW = datetime(2026, 1, 1)
APPS = ("a" * 24, "b" * 24)
LO, HI = datetime(2025, 12, 24), datetime(2025, 12, 31, 23, 59, 59)
WINDOW = {"attribute": "date_range", "operator": "between_dates",
          "value": {"lower": "2025-12-24T00:00:00Z", "upper": "2025-12-31T23:59:59Z"}}
IOS = {"attribute": "device_platform", "operator": "equal", "value": "ios"}
CART = {"attribute": "event_name", "operator": "in", "value": ["Add to cart", "View Product"]}
# filters whose rows the plain plan's pages stand for (no Python sort here): a semi-join on the session's
# events, its negative ("had no such event"), and a day taken out of the window
APPAREL = {"attribute": "event_custom_property", "property_name": "category", "operator": "equal", "value": "apparel"}
NO_APPAREL = {**APPAREL, "operator": "not_equal"}
NOT_ON = {"attribute": "date_range", "operator": "not_on", "value": "2025-12-30"}
NAMES = {id(IOS): "ios", id(CART): "cart", id(APPAREL): "apparel", id(NO_APPAREL): "no-apparel", id(NOT_ON): "not-on"}
TIED = "2025-12-31T20:30:00Z"


def _docs(n: int = 300) -> list[dict[str, Any]]:
    docs = list(generate_sessions(n, days=10, seed=11, now=NOW.replace(tzinfo=UTC)))
    for i in range(40):
        doc = copy.deepcopy(docs[i])
        doc["sessionId"] = f"tied-{39 - i:02d}"
        doc["property"]["uploadedServerTime"] = TIED
        doc["property"].pop("verifiedServerTime", None)
        docs.append(doc)
    return docs


def _uploaded(doc: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(doc["property"]["uploadedServerTime"].replace("Z", ""))


def _matches(doc: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    if not LO <= _uploaded(doc) <= HI:
        return False
    if IOS in filters and doc["device"].get("platform") != "ios":
        return False
    return CART not in filters or any(e["name"] in CART["value"] for e in doc.get("events") or [])


def _expected(resource: str, docs: list[dict[str, Any]], filters: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Session ids, or (session id, event position) pairs, newest upload first."""
    rows = []
    if resource == "users":  # each user with a matching session, by its latest one's time, then by its id
        latest: dict[str, datetime] = {}
        for d in docs:
            if _matches(d, filters):
                user = d["user"]["uxcamuserid"]
                latest[user] = max(latest.get(user, _uploaded(d)), _uploaded(d))
        return [(u,) for u, _ in sorted(latest.items(), key=lambda kv: (-kv[1].timestamp(), kv[0]))]
    for d in docs:
        if resource == "sessions":
            if _matches(d, filters):
                rows.append((_uploaded(d), d["sessionId"], 0))
            continue
        if not _matches(d, [f for f in filters if f is not CART]):
            continue
        for seq, e in enumerate(d.get("events") or []):
            if CART not in filters or e["name"] in CART["value"]:
                rows.append((_uploaded(d), d["sessionId"], seq))
    rows.sort(key=lambda r: (-r[0].timestamp(), r[1], r[2]))
    return [r[1:] if resource == "events" else r[1:2] for r in rows]


def _keys(resource: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    if resource == "users":
        at = shape.USER_COLUMNS.index("uxcamuserid")
        return [(r[at],) for r in rows]
    if resource == "sessions":
        at = shape.SESSION_COLUMNS.index("session_id")
        return [(r[at],) for r in rows]
    sid, seq = shape.EVENT_COLUMNS.index("session_id"), shape.EVENT_COLUMNS.index("ev_seq")
    return [(r[sid], r[seq]) for r in rows]


CASES = [
    ("sessions", []), ("sessions", [IOS]), ("sessions", [CART, IOS]), ("sessions", [APPAREL]),
    ("sessions", [NO_APPAREL, NOT_ON]),
    ("events", []), ("events", [IOS]), ("events", [CART]), ("events", [CART, IOS]), ("events", [NO_APPAREL]),
    ("users", []), ("users", [IOS]), ("users", [CART, IOS]), ("users", [APPAREL, NOT_ON]),
]


@pytest.mark.parametrize(("resource", "filters"), CASES, ids=[f"{r}-" + ("+".join(NAMES[id(f)] for f in fs) or "all") for r, fs in CASES])
def test_a_narrowed_page_is_the_page(loaded_store, resource, filters):
    docs = _docs(1_200 if resource == "users" else 300)  # about 100 users with an iOS session
    store = loaded_store(APPS, docs, NOW)
    kind, columns = {"sessions": (SESSIONS, shape.SESSION_COLUMNS), "events": (EVENTS, shape.EVENT_COLUMNS),
                     "users": (USERS, shape.USER_COLUMNS)}[resource]
    checked = all(f is IOS or f is CART for f in filters)  # by a Python sort; the others by the plain plan
    want = _expected(resource, docs, filters) if checked else []
    first = plan_list(APPS[0], parse_list(kind, {"filters": orjson.dumps([WINDOW, *filters]).decode()}, NOW), columns)
    total = service._count(store, first)  # the rows the list orders, in this app alone
    assert total == len(want) or not checked
    page_size = max(2, total // 30)  # about 30 pages
    top_n = 3 * page_size
    assert total >= 15 * page_size
    probes: list[ListPlan] = []

    def count(plan: ListPlan) -> int:
        probes.append(plan)
        return service._count(store, plan)

    got: list[tuple[Any, ...]] = []
    narrowed_pages = 0
    for page in range(1, total // page_size + 3):
        params = {"filters": orjson.dumps([WINDOW, *filters]).decode(), "page": str(page), "page_size": str(page_size)}
        plan = plan_list(APPS[0], parse_list(kind, params, NOW + timedelta(days=1)), columns)
        assert plan.limit is not None
        probes.clear()
        narrow = narrowed(plan, top_n, count)
        if plan.offset + plan.limit <= top_n and resource != "users":
            assert narrow is plan and not probes  # a page within the Top-N size costs nothing more
        if narrow is not plan:
            narrowed_pages += 1
            assert narrow.scope == plan.scope and narrow.keys_from is not None  # only the keys are read later on
            assert plan.scope.window.lo < narrow.keys_from < plan.scope.window.hi
            assert narrow == probes[-1] and service._count(store, narrow) >= plan.offset + plan.limit
            _, values = render_list(store.dialect, narrow)  # the page's keys are read from that time on
            assert narrow.keys_from in (values.values() if isinstance(values, dict) else values)
        rows = store.query(*render_list(store.dialect, narrow))
        assert rows == store.query(*render_list(store.dialect, plan))
        got.extend(_keys(resource, rows[:page_size]))
    assert len(got) == total and len(set(got)) == total
    assert got == want or not checked
    assert narrowed_pages >= 3
    tied = [k[0] for k in got if k[0].startswith("tied-")]
    if resource == "sessions" and not filters:
        assert tied == sorted(tied) and len(tied) == 40


def test_the_service_narrows_duckdb_pages_past_5000_rows(tmp_path):
    """Pages past DuckDB's Top-N size, through the service, on 5,400 sessions held by each of two apps."""
    from sessionscope.store.duckdb import DuckDBStore
    from support.data import store_for_apps

    assert DUCKDB.top_n_rows == 5000
    docs = list(generate_sessions(5_400, days=3, seed=13, now=NOW.replace(tzinfo=UTC)))
    store = store_for_apps(DuckDBStore(str(tmp_path / "s.duckdb")), APPS, docs, NOW)
    try:
        window = {**WINDOW, "value": {"lower": "2025-12-25T00:00:00Z", "upper": "2025-12-31T23:59:59Z"}}
        filters = orjson.dumps([window]).decode()
        want = [d["sessionId"] for d in sorted(
            (d for d in docs if datetime(2025, 12, 25) <= _uploaded(d) <= HI),
            key=lambda d: (-_uploaded(d).timestamp(), d["sessionId"]),
        )]
        assert len(want) > 5_100
        settings, now = Settings(data_dir=tmp_path), NOW + timedelta(days=1)
        for page, page_size, narrows in ((101, 50, True), (99, 50, False), (11, 500, False)):
            params = {"filters": filters, "page": str(page), "page_size": str(page_size)}
            got = service.list_sessions(store, settings, b"s" * 32, APPS[0], params, now)
            assert [d["sessionId"] for d in got["data"]] == want[(page - 1) * page_size:page * page_size]
            assert got["pagination"]["next"] == (page + 1 if len(want) > page * page_size else None)
            # what the service decides: page 101 of 50 (offset + limit with the extra row: 5,051) is narrowed;
            # page 99 (4,951) lies within the Top-N size; page 11 of 500 (5,501) needs more rows than the
            # window holds, and is left as it is
            plan = plan_list(APPS[0], parse_list(SESSIONS, params, now), shape.SESSION_COLUMNS)
            assert (narrowed(plan, DUCKDB.top_n_rows, lambda p: service._count(store, p)) is not plan) is narrows
    finally:
        store.close()


@pytest.mark.parametrize("resource", ["sessions", "users"])
def test_page_numbers_in_the_millions_give_an_empty_page(loaded_store, resource):
    """The spans are grown by ratios: a page past every row must not overflow a date (it once did: HTTP 500)."""
    store = loaded_store(APPS, _docs(), NOW)
    settings, params = Settings(), {"filters": orjson.dumps([WINDOW]).decode(), "page_size": "500"}
    for page in ("1000000", "10000000"):
        if resource == "users":
            got = service.list_users(store, settings, APPS[0], {**params, "page": page}, NOW + timedelta(days=1))
        else:
            got = service.list_sessions(store, settings, b"s" * 32, APPS[0], {**params, "page": page}, NOW)
        assert got["data"] == [] and got["pagination"] == {"current": int(page), "next": None, "total": 0}


def test_a_write_between_the_counts_and_the_page_is_read_again(tmp_path):
    """The counts and the page are separate queries. Here a real write lands between them: it moves every
    session of the window's last three days back by a week, so the page, cut from the counts' time on, comes
    back short, and the service reads it again from the whole window: the answer of the data after the write."""
    from sessionscope.store.duckdb import DuckDBStore
    from support.data import store_for_apps

    docs = _docs()
    moved = []
    for d in docs:
        if _uploaded(d) >= HI - timedelta(days=3):
            d = copy.deepcopy(d)
            d["property"]["uploadedServerTime"] = (_uploaded(d) - timedelta(days=7)).isoformat() + "Z"
            d["property"].pop("verifiedServerTime", None)
            moved.append(d)
    assert len(moved) > 50

    class WrittenBetween(DuckDBStore):
        pages = 0

        def query(self, sql, params):
            if sql.startswith("WITH page_users"):
                self.pages += 1
                if self.pages == 1:  # after the counts, before the page
                    store_for_apps(self, [APPS[0]], moved, NOW)
            return super().query(sql, params)

    store = store_for_apps(WrittenBetween(str(tmp_path / "s.duckdb")), APPS, docs, NOW)
    try:
        params = {"filters": orjson.dumps([WINDOW]).decode(), "page_size": "10"}
        plan = plan_list(APPS[0], parse_list(USERS, params, NOW + timedelta(days=1)), shape.USER_COLUMNS)
        narrow = narrowed(plan, None, lambda p: service._count(store, p))
        assert narrow.keys_from is not None and narrow.keys_from > HI - timedelta(days=3)  # the race is real
        got = service.list_users(store, Settings(), APPS[0], params, NOW + timedelta(days=1))
        assert store.pages == 2  # the narrowed page, then the whole window's
        after = {d["sessionId"]: d for d in docs} | {d["sessionId"]: d for d in moved}
        want = [u for (u,) in _expected("users", list(after.values()), [])][:10]
        assert [u["uxcamUserId"] for u in got["data"]] == want and len(want) == 10
    finally:
        store.close()


def test_users_filtered_on_their_totals_and_exports_are_never_narrowed():
    """A filter on a user's totals needs them over the whole window, and an export has no page."""
    from sessionscope.query.plan import plan_export

    def count(plan: ListPlan) -> int:
        raise AssertionError("no count is needed")

    busy = {"attribute": "user_session_count", "operator": "greater", "value": 3}  # a user's total
    params = {"filters": orjson.dumps([WINDOW, busy]).decode(), "page": "1", "page_size": "10"}
    users = plan_list(APPS[0], parse_list(USERS, params, NOW), shape.USER_COLUMNS)
    assert narrowed(users, 10, count) is users
    params = {"filters": orjson.dumps([WINDOW]).decode(), "page": "500", "page_size": "100"}
    export = plan_export(APPS[0], parse_list(SESSIONS, params, NOW), shape.SESSION_COLUMNS)
    assert narrowed(export, 10, count) is export
