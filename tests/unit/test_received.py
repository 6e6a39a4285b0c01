"""store/received.py: a re-sent session's times of receipt are moved back to its stored upload time; every
time its document sent, and every session the store does not hold, stays as it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from sessionscope.ingest import Limits, normalise_batch
from sessionscope.store import received
from sessionscope.store.schema import SESSION_SCHEMA

RETRY = datetime(2026, 3, 2, 0, 0, 5)  # the retry's time of receipt
FIRST = datetime(2026, 3, 1, 23, 59, 58)  # the stored upload time (the day before)
LOCAL = datetime(2026, 3, 1, 20, 0, 0)


def _doc(sid: str, **prop: str) -> dict:
    return {"sessionId": sid, "user": {"uxcamuserid": f"u-{sid}"}, "property": prop,
            "events": [{"name": "a", "timeSec": 1.5}, {"name": "b", "timeSec": 30}]}


def _times(table: pa.Table, *columns: str) -> dict[str, tuple]:
    rows = table.select(["session_id", *columns]).to_pylist()
    out: dict[str, tuple] = {}
    for r in rows:
        out.setdefault(r["session_id"], ())
        out[r["session_id"]] += (tuple(r[c] for c in columns),)
    return out


def test_defaulted_times_move_back_to_the_stored_upload_time() -> None:
    docs = [
        _doc("plain"),
        _doc("local", deviceLocalDateTime=f"{LOCAL:%Y-%m-%dT%H:%M:%S}Z"),
        _doc("verified", verifiedServerTime=f"{LOCAL:%Y-%m-%dT%H:%M:%S}Z"),
        _doc("sent", uploadedServerTime="2026-02-01T00:00:00Z"),
        _doc("new"),
    ]
    batch = normalise_batch("a" * 24, docs, now=RETRY.replace(tzinfo=UTC), limits=Limits())
    sessions, flags = received.split(batch.sessions)
    assert sessions.schema == SESSION_SCHEMA and flags is not None
    stored = {sid: FIRST for sid in ("plain", "local", "verified", "sent")}  # "new" is not stored
    moved, events = received.keep_first_receipt(sessions, batch.events, flags, stored)
    shift = FIRST - RETRY
    got = {s: t[0] for s, t in _times(moved, "uploaded_at", "verified_at", "started_at").items()}
    assert got == {
        "plain": (FIRST, FIRST, FIRST),
        "local": (FIRST, FIRST, LOCAL),  # its start was sent
        "verified": (FIRST, LOCAL, FIRST),
        "sent": (datetime(2026, 2, 1), datetime(2026, 2, 1), datetime(2026, 2, 1)),  # nothing defaulted
        "new": (RETRY, RETRY, RETRY),  # not stored: this receipt is its first
    }
    before = _times(batch.events, "uploaded_at", "event_at")
    after = _times(events, "uploaded_at", "event_at")
    assert after["plain"] == tuple((u + shift, e + shift) for u, e in before["plain"])
    assert after["local"] == tuple((u + shift, e) for u, e in before["local"])  # its events keep their times
    assert after["sent"] == before["sent"] and after["new"] == before["new"]
    assert after["plain"][1][1] == FIRST + timedelta(seconds=30)
    # other columns untouched, row order kept
    assert moved.drop_columns(["uploaded_at", "verified_at", "started_at"]) == sessions.drop_columns(
        ["uploaded_at", "verified_at", "started_at"]
    )


def test_a_table_without_flags_or_nothing_stored_is_left_alone() -> None:
    batch = normalise_batch("a" * 24, [_doc("x")], now=RETRY, limits=Limits())
    sessions, flags = received.split(batch.sessions)
    assert received.keep_first_receipt(sessions, batch.events, flags, {}) == (sessions, batch.events)
    plain, none = received.split(sessions)
    assert none is None and plain is sessions
    mixed = pa.concat_tables([batch.sessions, sessions], promote_options="default")  # flags null in row 2
    assert received.split(mixed)[1].tolist() == [flags[0], 0]
