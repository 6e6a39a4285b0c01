"""sessionNumber and first-session attributes stay exact whatever order sessions arrive in."""

import random
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sessionscope.ingest import Limits, normalise_batch
from sessionscope.store.duckdb import DuckDBStore

APP = "ab" * 12
T0 = datetime(2026, 1, 1)


def _time(minute: int) -> str:
    return (T0 + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")


def doc(sid: str, user: str, minute: int, referer: str | None, recorded: int | None = None) -> dict:
    """A session uploaded at `minute`; started at `recorded` (its device time) when given, else at upload."""
    d = {
        "sessionId": sid,
        "property": {"uploadedServerTime": _time(minute)},
        "user": {"uxcamuserid": user},
        "screens": [f"first-{sid}", "Home"],
    }
    if recorded is not None:
        d["property"]["deviceLocalDateTime"] = _time(recorded)
    if referer:
        d["web"] = {"referer": referer}
    return d


def _order(d: dict) -> tuple[str, str, str]:
    """A user's sessions are numbered by (start, upload, sessionId)."""
    p = d["property"]
    return (p.get("deviceLocalDateTime", p["uploadedServerTime"]), p["uploadedServerTime"], d["sessionId"])


def expected(docs: dict[str, dict]) -> dict[str, tuple[int, str | None, str]]:
    """sessionId -> (sessionNumber, user's first referer, user's first screen), computed from scratch."""
    by_user: dict[str, list[dict]] = {}
    for d in docs.values():
        by_user.setdefault(d["user"]["uxcamuserid"], []).append(d)
    out = {}
    for sessions in by_user.values():
        sessions.sort(key=_order)
        head = sessions[0]
        for rank, d in enumerate(sessions, start=1):
            out[d["sessionId"]] = (rank, head.get("web", {}).get("referer"), head["screens"][0])
    return out


def user_state(store: DuckDBStore) -> dict[str, tuple]:
    rows = store.query(
        "SELECT uxcamuserid, session_count, last_start, first_referer, first_screen_name FROM user_state "
        "WHERE app_id = $1",
        [APP],
    )
    assert len(rows) == len({r[0] for r in rows}), "one state row per user"
    return {r[0]: r[1:] for r in rows}


def assert_one_key_per_user(store: DuckDBStore) -> None:
    """Every user has one integer key on all its sessions and in its state, and no two users share one."""
    rows = store.query(
        "SELECT s.uxcamuserid, count(DISTINCT s.user_key), count(s.user_key), count(*), any_value(s.user_key), "
        "any_value(u.user_key) FROM sessions s LEFT JOIN user_state u USING (app_id, uxcamuserid) GROUP BY 1",
        [],
    )
    for user, keys, keyed, n, key, state_key in rows:
        assert (keys, keyed) == (1, n), f"{user}: {keys} keys on {keyed} of {n} sessions"
        assert key == state_key, f"{user}: key {key} on its sessions, {state_key} in its state"
    assert len({r[4] for r in rows}) == len(rows), "two users share a key"


def expected_state(store: DuckDBStore, docs: dict[str, dict]) -> dict[str, tuple]:
    """user -> (sessions, latest start, first referer, first screen): counted from the documents sent,
    the latest start read from the stored sessions."""
    starts = dict(store.query("SELECT uxcamuserid, max(started_at) FROM sessions WHERE app_id = $1 GROUP BY 1", [APP]))
    by_user: dict[str, list[str]] = {}
    for sid, d in docs.items():
        by_user.setdefault(d["user"]["uxcamuserid"], []).append(sid)
    numbered = expected(docs)
    out = {}
    for user, sids in by_user.items():
        _, first_referer, first_screen = numbered[sids[0]]
        out[user] = (len(sids), starts[user], first_referer, first_screen)
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 14),
            st.sampled_from(["u1", "u2", "u3"]),
            st.integers(0, 50),
            st.booleans(),
            st.one_of(st.none(), st.integers(0, 50)),  # a device time, which may differ from the upload's
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 6),
    st.randoms(use_true_random=False),
)
def test_numbers_match_a_full_recomputation(tmp_path_factory, writes, batches, rnd: random.Random):
    path = str(tmp_path_factory.mktemp("n") / "s.duckdb")
    store = DuckDBStore(path)
    latest: dict[str, dict] = {}
    docs = [
        doc(f"s{sid}", user, minute, f"https://r{sid}.example/" if web else None, recorded)
        for sid, user, minute, web, recorded in writes
    ]
    rnd.shuffle(docs)
    size = max(1, len(docs) // batches)
    for i in range(0, len(docs), size):
        chunk = docs[i : i + size]
        batch = normalise_batch(APP, chunk, now=T0, limits=Limits())
        store.write_sessions(APP, batch.sessions, batch.events)
        for d in chunk:
            latest[d["sessionId"]] = d
        assert user_state(store) == expected_state(store, latest)
        assert_one_key_per_user(store)
        if rnd.random() < 0.3:  # a restarted server counts new keys on from the largest stored
            store.close()
            store = DuckDBStore(path)
    rows = store.query(
        "SELECT session_id, session_number, first_referer, first_screen_name FROM sessions WHERE app_id = $1", [APP]
    )
    assert {r[0]: (r[1], r[2], r[3]) for r in rows} == expected(latest)
    store.close()


def test_a_reaching_back_write_rereads_a_user_only_from_its_earliest_new_session(tmp_path, monkeypatch):
    """u1 gets a session in the middle of its ten: only its rows from that point are re-read (the first five
    keep their numbers, and its first-session values come from its state). A re-sent session bounds its
    user from the earlier of its old and new starts; a user losing one to another user is re-read whole."""
    from sessionscope.store import duckdb as store_module

    seen = []  # per renumbering: {user: rows re-read}
    sql = store_module._RENUMBER_SQL
    count = "CREATE OR REPLACE TABLE renumber_seen AS SELECT uxcamuserid, count(*) AS n FROM _renumber GROUP BY 1"
    monkeypatch.setattr(store_module, "_RENUMBER_SQL", [sql[0], count, *sql[1:]])
    bounds = store_module._renumber_bounds

    def recording(*args):
        table, lo = bounds(*args)
        seen.append((table.select(["uxcamuserid", "lo", "kept", "first_screen_name"]).to_pylist(), lo))
        return table, lo

    monkeypatch.setattr(store_module, "_renumber_bounds", recording)
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    latest: dict[str, dict] = {}

    def write(docs: list[dict]) -> dict[str, int]:
        batch = normalise_batch(APP, docs, now=T0, limits=Limits())
        store.write_sessions(APP, batch.sessions, batch.events)
        latest.update({d["sessionId"]: d for d in docs})
        return dict(store.query("SELECT uxcamuserid, n FROM renumber_seen", [])) if seen else {}

    assert write([doc(f"a{m}", "u1", 10 * m, None) for m in range(10)] + [doc(f"b{m}", "u2", 10 * m, None) for m in range(4)]) == {}
    # u1 alone reaches back (minute 45, between its sessions at 40 and 50)
    assert write([doc("a-mid", "u1", 45, "https://r.example/")]) == {"u1": 6}
    assert seen[-1] == ([{"uxcamuserid": "u1", "lo": T0 + timedelta(minutes=45), "kept": 10, "first_screen_name": "first-a0"}],
                        T0 + timedelta(minutes=45))
    # again, with u2's second session (minute 10) re-sent at minute 35: u2 is re-read from its old start
    assert write([doc("a-late", "u1", 85, None), doc("b1", "u2", 35, None)]) == {"u1": 2, "u2": 3}
    users = {row["uxcamuserid"]: row for row in seen[-1][0]}
    assert users["u1"]["lo"] == T0 + timedelta(minutes=85) and users["u1"]["kept"] == 11
    assert users["u2"]["lo"] == T0 + timedelta(minutes=10) and users["u2"]["kept"] == 3
    assert seen[-1][1] == T0 + timedelta(minutes=10)
    # u2's session at minute 30 moves to u3: u2 has nothing in the batch, so it has no bound, nor has u3
    # (no state yet), nor the scan
    assert write([doc("b3", "u3", 30, None)]) == {"u2": 3, "u3": 1}
    assert {row["uxcamuserid"]: (row["lo"], row["kept"]) for row in seen[-1][0]} == {"u2": (None, None), "u3": (None, None)}
    assert seen[-1][1] == store_module._EPOCH
    rows = store.query("SELECT session_id, session_number, first_referer, first_screen_name FROM sessions WHERE app_id = $1", [APP])
    assert {r[0]: (r[1], r[2], r[3]) for r in rows} == expected(latest)
    assert user_state(store) == expected_state(store, latest)
    store.close()
