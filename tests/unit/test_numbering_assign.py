"""numbering.assign, column-wise, against a row-by-row reference on random batches and stored summaries."""

import random
from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from sessionscope.store.numbering import FIRST_COLUMNS, SOURCE_OF_FIRST, UserSummary, assign
from sessionscope.store.schema import SESSION_SCHEMA

T0 = datetime(2026, 1, 1)


def batch(rnd: random.Random, n: int) -> pa.Table:
    cols: dict[str, list] = {f.name: [None] * n for f in SESSION_SCHEMA}
    users = [f"u{k}" for k in range(rnd.randint(1, 8))]
    for i in range(n):
        cols["app_id"][i] = "ab" * 12
        cols["session_id"][i] = f"s{i:03d}-{rnd.randint(0, 9)}"
        cols["uxcamuserid"][i] = rnd.choice(users)
        cols["started_at"][i] = T0 + timedelta(minutes=rnd.randint(0, 30))  # ties are common
        cols["uploaded_at"][i] = T0 + timedelta(minutes=rnd.randint(0, 3))
        cols["referer"][i] = rnd.choice([None, "https://a.example/", "https://b.example/"])
        cols["referer_domain"][i] = rnd.choice([None, "a.example"])
        cols["utm"][i] = rnd.choice([None, '{"source":"x"}'])
        cols["utm_map"][i] = rnd.choice([None, [], [("source", "x")], [("source", "y"), ("medium", "m")]])
        cols["screens"][i] = rnd.choice([[], ["Home"], ["Cart", "Home"], None])
        cols["session_number"][i] = rnd.choice([None, 99])  # whatever was there is replaced
    return pa.Table.from_pydict(cols, schema=SESSION_SCHEMA)


def reference(table: pa.Table, summaries: dict[str, UserSummary], recompute: set[str]):
    rows = table.to_pylist()
    full = set(recompute)
    by_user: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_user.setdefault(r["uxcamuserid"], []).append(i)
    numbers: list = [None] * len(rows)
    firsts = {c: [None] * len(rows) for c in FIRST_COLUMNS}
    for user, idx in by_user.items():
        idx.sort(key=lambda i: (rows[i]["started_at"], rows[i]["uploaded_at"], rows[i]["session_id"]))
        s = summaries.get(user)
        if user in full or (s is not None and rows[idx[0]]["started_at"] <= s.last_start):
            full.add(user)
            continue
        if s is None:
            head = rows[idx[0]]
            first = {c: (head["screens"][0] if head["screens"] else None) if c == "first_screen_name"
                     else head[SOURCE_OF_FIRST[c]] for c in FIRST_COLUMNS}
            base = 0
        else:
            first = {c: v for c, v in zip(FIRST_COLUMNS, s.first, strict=True)}
            first["first_utm_map"] = list(first["first_utm_map"].items()) if isinstance(
                first["first_utm_map"], dict) else first["first_utm_map"]
            base = s.count
        for rank, i in enumerate(idx, start=1):
            numbers[i] = base + rank
            for c in FIRST_COLUMNS:
                firsts[c][i] = first[c]
    return numbers, firsts, full


@pytest.mark.parametrize("seed", range(60))
def test_assign_matches_a_row_by_row_reference(seed):
    rnd = random.Random(seed)
    table = batch(rnd, rnd.choice([1, 2, 5, 40, 300]))
    users = sorted(set(table.column("uxcamuserid").to_pylist()))
    summaries = {}
    for u in users + ["not-in-batch"]:
        if rnd.random() < 0.5:
            utm_map = rnd.choice([None, {"source": "stored"}, [("medium", "kept")]])  # dict: as ClickHouse returns
            summaries[u] = UserSummary(rnd.randint(1, 50), T0 + timedelta(minutes=rnd.randint(-30, 20)),
                                       ("https://stored.example/", "stored.example", "Login", '{"a":1}', utm_map))
    recompute = set(rnd.sample(users + ["gone"], k=rnd.randint(0, 2)))
    got, full = assign(table, summaries, recompute)
    numbers, firsts, want_full = reference(table, summaries, recompute)
    assert full == want_full
    assert got.schema == table.schema and got.num_rows == table.num_rows
    assert got.column("session_number").to_pylist() == numbers
    for c in FIRST_COLUMNS:
        assert got.column(c).to_pylist() == firsts[c], c
    untouched = [f.name for f in SESSION_SCHEMA if f.name not in ("session_number", *FIRST_COLUMNS)]
    assert got.select(untouched).equals(table.select(untouched))


def test_an_empty_batch_returns_the_users_to_recompute():
    empty = SESSION_SCHEMA.empty_table()
    got, full = assign(empty, {}, {"u1"})
    assert got.num_rows == 0 and full == {"u1"}
