"""sessionNumber and first-session attributes stay exact whatever order sessions arrive in."""

import random
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sessionscope.ingest import Limits, normalise_batch
from sessionscope.store.duckdb import DuckDBStore

APP = "ab" * 12
T0 = datetime(2026, 1, 1)


def doc(sid: str, user: str, minute: int, referer: str | None) -> dict:
    d = {
        "sessionId": sid,
        "property": {"uploadedServerTime": (T0 + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")},
        "user": {"uxcamuserid": user},
        "screens": [f"first-{sid}", "Home"],
    }
    if referer:
        d["web"] = {"referer": referer}
    return d


def expected(docs: dict[str, dict]) -> dict[str, tuple[int, str | None, str]]:
    """sessionId -> (sessionNumber, user's first referer, user's first screen), computed from scratch."""
    by_user: dict[str, list[dict]] = {}
    for d in docs.values():
        by_user.setdefault(d["user"]["uxcamuserid"], []).append(d)
    out = {}
    for sessions in by_user.values():
        sessions.sort(key=lambda d: (d["property"]["uploadedServerTime"], d["sessionId"]))
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
        st.tuples(st.integers(0, 14), st.sampled_from(["u1", "u2", "u3"]), st.integers(0, 50), st.booleans()),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 6),
    st.randoms(use_true_random=False),
)
def test_numbers_match_a_full_recomputation(tmp_path_factory, writes, batches, rnd: random.Random):
    store = DuckDBStore(str(tmp_path_factory.mktemp("n") / "s.duckdb"))
    latest: dict[str, dict] = {}
    docs = [doc(f"s{sid}", user, minute, f"https://r{sid}.example/" if web else None) for sid, user, minute, web in writes]
    rnd.shuffle(docs)
    size = max(1, len(docs) // batches)
    for i in range(0, len(docs), size):
        chunk = docs[i : i + size]
        batch = normalise_batch(APP, chunk, now=T0, limits=Limits())
        store.write_sessions(APP, batch.sessions, batch.events)
        for d in chunk:
            latest[d["sessionId"]] = d
        assert user_state(store) == expected_state(store, latest)
    rows = store.query(
        "SELECT session_id, session_number, first_referer, first_screen_name FROM sessions WHERE app_id = $1", [APP]
    )
    assert {r[0]: (r[1], r[2], r[3]) for r in rows} == expected(latest)
    store.close()
