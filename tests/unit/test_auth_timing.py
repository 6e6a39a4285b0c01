"""apps.authenticate compares in constant time on every path: one compare_digest of two 64-hex-char hashes,
whether the app id is malformed, unknown, or the key wrong, missing or right; the key itself is never compared."""

from __future__ import annotations

import hmac

import pytest

from sessionscope import apps
from sessionscope.store import open_store


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    s = open_store(f"duckdb:///{tmp_path / 'auth.duckdb'}")
    yield s
    s.close()


def test_every_path_does_one_constant_time_comparison_of_hashes(store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    creds = apps.create_app(store, "timing")
    other = apps.create_app(store, "other")
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a, b):  # type: ignore[no-untyped-def]
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(apps.hmac, "compare_digest", spy)
    cases = {
        "right": (creds.appid, creds.apikey, True),
        "wrong key": (creds.appid, "sk_" + "x" * 32, False),
        "other app's key": (creds.appid, other.apikey, False),
        "ingest key": (creds.appid, creds.ingest_key, False),
        "unknown app": ("0" * 24, creds.apikey, False),
        "malformed app": ("not-an-app-id", creds.apikey, False),
        "no app": (None, creds.apikey, False),
        "no key": (creds.appid, None, False),
        "empty key": (creds.appid, "", False),
        "prefix of the key": (creds.appid, creds.apikey[:-1], False),
    }
    for name, (appid, key, ok) in cases.items():
        calls.clear()
        assert apps.authenticate(store, appid, key, "apikey") is ok, name
        assert len(calls) == 1, name
        a, b = calls[0]
        assert isinstance(a, str) and isinstance(b, str) and len(a) == len(b) == 64, name
        assert key is None or key == "" or (key not in (a, b)), name  # hashes, never the key


def test_keys_are_stored_only_as_hashes(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    creds = apps.create_app(store, "at-rest")
    new_key = apps.rotate_key(store, creds.appid, "apikey")
    rows = store.query("SELECT apikey_hash, ingest_key_hash FROM apps WHERE appid = $1", [creds.appid])
    assert rows == [(apps.hash_key(new_key), apps.hash_key(creds.ingest_key))]
    store.execute("CHECKPOINT")
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("auth.duckdb"))
    for key in (creds.apikey, creds.ingest_key, new_key):
        assert key.encode() not in raw
    assert apps.hash_key(new_key).encode() in raw  # the hash is what is there
