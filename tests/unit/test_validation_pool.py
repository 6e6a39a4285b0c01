"""Validation workers: errors reach the caller unchanged, and no worker outlives a killed server."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import orjson
import pytest

from sessionscope.demo import generate_sessions
from sessionscope.errors import ApiError
from sessionscope.ingest import Limits
from sessionscope.ingest.pool import ValidationPool

ARGS = (datetime(2026, 1, 1), Limits(), 10**8, 10**5)


def test_a_worker_validates_like_the_server_and_raises_its_errors():
    docs = list(generate_sessions(50, seed=1, now=datetime(2026, 1, 1, tzinfo=UTC)))
    pool, here = ValidationPool(1), ValidationPool(0)
    try:
        a = pool.validate("ab" * 12, orjson.dumps(docs), "application/json", None, *ARGS)
        b = here.validate("ab" * 12, orjson.dumps(docs), "application/json", None, *ARGS)
        assert a.sessions.equals(b.sessions) and a.events.equals(b.events) and a.accepted == 50
        with pytest.raises(ApiError) as err:
            pool.validate("ab" * 12, b"[{", "application/json", None, *ARGS)
        assert err.value.status == 400 and err.value.param == "body"
    finally:
        pool.close()


CHILD = """
import sys, time
from datetime import datetime
from sessionscope.ingest import Limits
from sessionscope.ingest.pool import ValidationPool
pool = ValidationPool(1)
pool.validate("ab" * 12, b'[{"sessionId": "x"}]', "application/json", None, datetime(2026, 1, 1), Limits(), 10**8, 10)
print(*[p.pid for p in pool._pool._processes.values()], flush=True)
time.sleep(600)
"""


def test_workers_exit_when_their_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    workers = [int(p) for p in parent.stdout.readline().split()]  # type: ignore[union-attr]
    assert workers
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [w for w in workers if _running(w)]
    assert not alive, f"workers {alive} outlived their killed parent"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
    except OSError:
        return os.path.exists(f"/proc/{pid}")
