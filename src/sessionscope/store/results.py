"""Query results reused until the next write, for a store that no other process writes (embedded DuckDB).

Dashboards and notebooks send the same requests again and again; over unchanged data the answer is the
same. The store counts its committed writes (`version`); every commit empties the cache, and a result is
kept only if no write committed while its query ran, so a kept result is always of the current data. The key is the
rendered SQL with its bound values, so the app filter, the window and every parameter are part of it.

A caller that must not wait for the engine (the event loop, see api/reads.py) runs its work inside
`cached_only()`: a result that is not kept then raises `NotCached` instead of running, and the caller runs
the work again where it may wait.

Exactness: the version is bumped after a write commits and before the write is acknowledged, so a request
sent after an ingest request returned never sees a result from before it. Only results of at most
`max_rows` rows are kept, and at most `max_entries` of them (least recently used go first), under keys of
at most MAX_KEY_BYTES; reads of no app have an eighth of that number to themselves.

Per app: a write that names its app (a batch of sessions, a replay) discards only what was read for that
app, and what was read for no app in particular. A read names its app with `reading(appid)`; the API's
reads do, for the app the request authenticated as. That is exact because every row a read of an app can
see carries that app's id and the query compiler adds the app filter to every query it renders (tenant
isolation by construction); a query that does not bind the app's id among its values is kept as a read
of no app whatever its scope says. Any other write (`bump()` without an app: apps, keys, migrations, copies)
discards everything. So a server whose apps ingest all day keeps answering each dashboard from kept
results between that app's own writes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any, TypeVar

Row = tuple[Any, ...]
T = TypeVar("T")
_CACHED_ONLY: ContextVar[bool] = ContextVar("sessionscope_cached_only", default=False)
_APP: ContextVar[str | None] = ContextVar("sessionscope_reading_app", default=None)


class NotCached(Exception):
    """Under `cached_only()`: this result is not kept, and getting it means waiting for the engine."""


@contextmanager
def cached_only() -> Iterator[None]:
    """Within this block (this thread or task), a store read answers from kept results or raises NotCached."""
    token = _CACHED_ONLY.set(True)
    try:
        yield
    finally:
        _CACHED_ONLY.reset(token)


def _binds(values: Any, app: str) -> bool:
    """Whether a query's frozen parameter values (`_frozen`) include the app id `app` as a string."""
    if values == ("str", app):
        return True
    return isinstance(values, tuple) and any(_binds(v, app) for v in values)


@contextmanager
def reading(appid: str) -> Iterator[None]:
    """Within this block (this thread or task, and the worker threads it hands work to), every read is of
    `appid`'s data only: what it keeps is discarded by that app's writes and by writes of no app, not by
    other apps' writes."""
    token = _APP.set(appid)
    try:
        yield
    finally:
        _APP.reset(token)


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, str | int | float | bool | datetime | date) or value is None:
        return (type(value).__name__, value)  # 1 and True and 1.0 are different parameters
    raise TypeError(f"cannot key a cached result on a {type(value).__name__}")


# A key (the request's body and query string, or a query's text and values) larger than this is not kept:
# 256 entries of 30 MB filter lists held gigabytes, for requests that are rarely sent twice.
MAX_KEY_BYTES = 64 * 1024


def _key_fits(value: Any, budget: int = MAX_KEY_BYTES) -> int:
    """What is left of `budget` after `value`'s size (text and bytes by length, anything else 8); negative
    once over it (it stops counting there, so a huge key costs no more than a small one)."""
    if isinstance(value, str | bytes):
        return budget - len(value)
    if isinstance(value, tuple):
        for v in value:
            budget = _key_fits(v, budget)
            if budget < 0:
                break
        return budget
    return budget - 8


class ResultCache:
    def __init__(self, max_entries: int = 256, max_rows: int = 5_000) -> None:
        self.max_entries = max_entries
        # results read for no app (key checks of any app id, sent by anyone): a share of their own, so that
        # requests with made-up app ids cannot push the apps' results out
        self.max_unscoped = max(1, max_entries // 8)
        self.max_rows = max_rows
        self.version = 0  # committed writes so far, of any app or none
        self._global = 0  # writes of no app in particular: they stale every result
        self._apps: dict[str, int] = {}  # writes of each app: they stale that app's results
        self.hits = self.misses = 0
        # (the app read for or None, key) -> rows, or whole answers (api/reads.py)
        self._entries: OrderedDict[tuple[str | None, Any], Any] = OrderedDict()  # reads of an app
        self._unscoped: OrderedDict[tuple[str | None, Any], Any] = OrderedDict()  # reads of no app
        self._lock = threading.Lock()

    def bump(self, app: str | None = None) -> None:
        """A write has committed: the results kept for `app`, and those kept for no app, are now stale; with
        no app, every kept result is."""
        with self._lock:
            self.version += 1
            self._unscoped.clear()  # every write discards the reads of no app
            if app is None:
                self._global += 1
                self._entries.clear()
                return
            self._apps[app] = self._apps.get(app, 0) + 1
            for key in [k for k in self._entries if k[0] == app]:
                del self._entries[key]

    def _stamp(self, app: str | None) -> tuple[int, ...]:
        """What must not change while a result for `app` is computed for it to be kept (under the lock)."""
        return (self.version,) if app is None else (self._global, self._apps.get(app, 0))

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0

    def rows(self, sql: str, params: Sequence[Any], run: Callable[[], list[Row]]) -> list[Row]:
        """The rows of `sql` with `params`: kept ones, or `run()`'s (kept when at most `max_rows`)."""
        try:
            key = (sql, _frozen(list(params))) if self.enabled else None
        except TypeError:  # a value of a type the key does not know: run it, keep nothing
            key = None
        if key is None:
            if _CACHED_ONLY.get():
                raise NotCached
            return run()
        # A read counts as its scope's app only if it binds that app's id (every query the compiler renders
        # does); any other is kept as a read of no app, which every write discards.
        app = _APP.get()
        owner = app if app is not None and _binds(key[1], app) else None
        return list(self.kept(key, run, lambda rows: len(rows) <= self.max_rows, engine_read=True, app=owner))

    def kept(
        self, key: Any, run: Callable[[], T], keep: Callable[[T], bool], *, engine_read: bool = False,
        app: str | None = None,
    ) -> T:
        """The value kept under `key`, or `run()`'s, then kept if `keep` says so and no write that stales it
        committed meanwhile. `app`: the one app whose data the value is computed from (its writes, and
        writes of no app, discard it), or None (every write does). `engine_read`: `run` waits for the
        engine, so under `cached_only()` a miss raises NotCached instead (uncounted); otherwise `run` itself
        decides (api/reads.py keeps whole answers, computed from kept rows)."""
        keyed = _key_fits(key) >= 0
        key = (app, key)  # a result read for an app is only ever served to a read of that app
        entries = self._entries if app is not None else self._unscoped
        limit = self.max_entries if app is not None else self.max_unscoped
        with self._lock:
            stamp = self._stamp(app)
            found = entries.get(key) if keyed else None
            if found is not None:
                entries.move_to_end(key)
                self.hits += 1
                return found
            if engine_read and _CACHED_ONLY.get():
                raise NotCached
            self.misses += 1
        value = run()
        if keyed and keep(value):
            with self._lock:
                if stamp == self._stamp(app):  # no write that stales it committed while it ran
                    entries[key] = value
                    while len(entries) > limit:
                        entries.popitem(last=False)
        return value
