"""Verified keys are remembered for a bounded time; wrong keys never are."""

from pathlib import Path

from sessionscope import apps
from sessionscope.store.duckdb import DuckDBStore


def test_only_verified_keys_are_remembered_and_only_for_the_ttl(tmp_path: Path):
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    creds = apps.create_app(store, "x")
    now = [100.0]
    cache = apps.KeyCache(ttl=5, clock=lambda: now[0])
    assert not cache.known(creds.appid, creds.apikey, "apikey")
    assert apps.authenticate(store, creds.appid, creds.apikey, "apikey")
    cache.remember(creds.appid, creds.apikey, "apikey")
    assert cache.known(creds.appid, creds.apikey, "apikey")
    # the same key under another role, another app, or a different key: not known
    assert not cache.known(creds.appid, creds.apikey, "ingest_key")
    assert not cache.known("ab" * 12, creds.apikey, "apikey")
    assert not cache.known(creds.appid, creds.apikey + "x", "apikey")
    # rotated elsewhere: the old key is still remembered until the ttl runs out, then the table decides
    apps.rotate_key(store, creds.appid, "apikey")
    assert cache.known(creds.appid, creds.apikey, "apikey")
    now[0] += 4.9
    assert cache.known(creds.appid, creds.apikey, "apikey")
    now[0] += 0.2
    assert not cache.known(creds.appid, creds.apikey, "apikey")
    assert not apps.authenticate(store, creds.appid, creds.apikey, "apikey")


def test_a_zero_ttl_remembers_nothing_and_the_cache_is_bounded():
    off = apps.KeyCache(ttl=0)
    off.remember("ab" * 12, "k", "apikey")
    assert not off.known("ab" * 12, "k", "apikey")
    small = apps.KeyCache(ttl=60, max_entries=3)
    for i in range(4):
        small.remember("ab" * 12, f"k{i}", "apikey")
    assert small.known("ab" * 12, "k3", "apikey")
    assert sum(small.known("ab" * 12, f"k{i}", "apikey") for i in range(4)) <= 3
