"""The embedded store leaves no transaction open, so DuckDB can checkpoint and the WAL stays small."""

from datetime import UTC, datetime
from pathlib import Path

from sessionscope import apps
from sessionscope.demo import generate_sessions
from sessionscope.ingest import Limits, normalise_batch
from sessionscope.store.duckdb import DuckDBStore


def test_no_transaction_is_left_open(tmp_path: Path):
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    creds = apps.create_app(store, "x")
    apps.authenticate(store, creds.appid, creds.apikey, "apikey")
    docs = list(generate_sessions(200, seed=1, now=datetime(2026, 1, 1, tzinfo=UTC)))
    batch = normalise_batch(creds.appid, docs, now=datetime(2026, 1, 1), limits=Limits())
    store.write_sessions(creds.appid, batch.sessions, batch.events)
    store.query("SELECT count(*) FROM sessions", [])
    # CHECKPOINT refuses to run while any other transaction is open
    store._conn.cursor().execute("CHECKPOINT")


def test_wal_is_checkpointed_as_batches_arrive(tmp_path: Path):
    path = tmp_path / "s.duckdb"
    store = DuckDBStore(str(path))
    store._conn.execute("SET checkpoint_threshold = '16MB'")  # the production threshold is larger
    gen = generate_sessions(24_000, seed=2, now=datetime(2026, 1, 1, tzinfo=UTC))
    wal = Path(str(path) + ".wal")
    sizes = []
    for _ in range(6):
        docs = [next(gen) for _ in range(4_000)]
        batch = normalise_batch("ab" * 12, docs, now=datetime(2026, 1, 1), limits=Limits())
        store.write_sessions("ab" * 12, batch.sessions, batch.events)
        sizes.append(wal.stat().st_size if wal.exists() else 0)
    # each batch writes several MiB of WAL; without checkpoints it would only grow
    assert max(sizes) < 40 * 2**20, sizes
    assert min(sizes) < 16 * 2**20, sizes
