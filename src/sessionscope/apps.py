"""Apps (tenants) and their keys. Keys are random, shown once, and stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .query.render import bound
from .store import Store

APPID_RE = re.compile(r"^[0-9a-f]{24}$")
KEY_KINDS = ("apikey", "ingest_key")


@dataclass(frozen=True)
class App:
    appid: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class Credentials:
    appid: str
    apikey: str
    ingest_key: str


def hash_key(key: str) -> str:
    # Keys carry >= 192 random bits, so a plain cryptographic hash is enough (no stretching needed).
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(kind: str) -> str:
    prefix = "sk_" if kind == "apikey" else "ik_"
    return prefix + secrets.token_urlsafe(24)


MAX_NAME = 100


def checked_name(name: str) -> str:
    """An app's name as kept: trimmed, 1 to MAX_NAME characters, no control characters (it is one line of
    `apps list` and the dashboard's header)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 or ord(c) == 127 for c in name):
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise ValueError(f"an app's name is 1 to {MAX_NAME} characters on one line, with no control characters; got {shown!r}")
    return name


def create_app(store: Store, name: str) -> Credentials:
    name = checked_name(name)
    appid = secrets.token_hex(12)
    apikey, ingest_key = new_key("apikey"), new_key("ingest_key")
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    store.execute(
        *bound(
            store.dialect,
            "INSERT INTO apps (appid, name, apikey_hash, ingest_key_hash, created_at) VALUES ({a}, {n}, {k}, {i}, {t})",
            a=(appid, "String"),
            n=(name, "String"),
            k=(hash_key(apikey), "String"),
            i=(hash_key(ingest_key), "String"),
            t=(now, "DateTime"),
        )
    )
    return Credentials(appid, apikey, ingest_key)


def list_apps(store: Store) -> list[App]:
    rows = store.query("SELECT appid, name, created_at FROM apps ORDER BY created_at, appid", [])
    return [App(*row) for row in rows]


def count_app_rows(store: Store, table: str, appid: str) -> int:
    """How many rows of `table` (sessions, events, videos) belong to the app."""
    return int(store.query(*bound(store.dialect, f"SELECT count(*) FROM {table} WHERE app_id = {{a}}", a=(appid, "String")))[0][0])


def find_app(store: Store, name: str) -> App | None:
    rows = store.query(
        *bound(store.dialect, "SELECT appid, name, created_at FROM apps WHERE name = {n} ORDER BY created_at LIMIT 1", n=(name, "String"))
    )
    return App(*rows[0]) if rows else None


def rotate_key(store: Store, appid: str, kind: str) -> str:
    """Replace one key of an app; the old key stops working at once. Returns the new key."""
    if kind not in KEY_KINDS:
        raise ValueError(f"key kind must be one of {', '.join(KEY_KINDS)}")
    if not APPID_RE.match(appid) or not store.query(*bound(store.dialect, "SELECT 1 FROM apps WHERE appid = {a}", a=(appid, "String"))):
        raise LookupError(f"no app with id {appid}")
    key = new_key(kind)
    column = {"apikey": "apikey_hash", "ingest_key": "ingest_key_hash"}[kind]  # identifiers from a fixed table
    store.execute(
        *bound(store.dialect, f"UPDATE apps SET {column} = {{k}} WHERE appid = {{a}}", k=(hash_key(key), "String"), a=(appid, "String"))
    )
    return key


def authenticate(store: Store, appid: str | None, key: str | None, kind: str) -> bool:
    """True when `key` is the current key of `kind` for `appid`. Constant-time on the hash."""
    if not appid or not key or not APPID_RE.match(appid):
        # still hash, so timing does not reveal which part was wrong
        hmac.compare_digest(hash_key(key or ""), "0" * 64)
        return False
    column = {"apikey": "apikey_hash", "ingest_key": "ingest_key_hash"}[kind]
    rows = store.query(*bound(store.dialect, f"SELECT {column} FROM apps WHERE appid = {{a}}", a=(appid, "String")))
    expected = rows[0][0] if rows else "0" * 64
    return hmac.compare_digest(hash_key(key), expected) and bool(rows)


def dashboard_identity(store: Store, appid: str) -> tuple[str, str] | None:
    """(name, data access key hash) of an app, for dashboard logins; None when there is no such app."""
    if not APPID_RE.match(appid):
        return None
    rows = store.query(*bound(store.dialect, "SELECT name, apikey_hash FROM apps WHERE appid = {a}", a=(appid, "String")))
    return (rows[0][0], rows[0][1]) if rows else None


class KeyCache:
    """Keys verified recently, so a request does not read the apps table every time (a query of about
    0.6 ms on the embedded store). Only successes are remembered, for `ttl` seconds; a wrong key is always
    checked against the table, in constant time."""

    def __init__(self, ttl: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._until: dict[tuple[str, str, str], float] = {}

    def known(self, appid: str | None, key: str | None, kind: str) -> bool:
        if self.ttl <= 0 or not appid or not key:
            return False
        until = self._until.get((appid, kind, hash_key(key)))
        return until is not None and until > self.clock()

    def remember(self, appid: str, key: str, kind: str) -> None:
        if self.ttl <= 0:
            return
        if len(self._until) >= self.max_entries:
            self._until.clear()
        self._until[(appid, kind, hash_key(key))] = self.clock() + self.ttl

    def forget(self) -> None:
        self._until.clear()
