"""The background log writer: every line, in order, written by close; formatted as configured."""

from __future__ import annotations

import io
import json
import logging
import threading

from sessionscope.logs import BackgroundHandler, JsonFormatter


def test_every_line_is_written_in_order_by_close() -> None:
    stream = io.StringIO()
    handler = BackgroundHandler(stream, linger=0.01)
    handler.setFormatter(logging.Formatter("%(threadName)s %(message)s"))
    log = logging.getLogger("test-background")
    log.propagate, log.handlers = False, [handler]
    log.setLevel(logging.INFO)

    def emit(n: int) -> None:
        for i in range(500):
            log.info("%d", i)

    threads = [threading.Thread(target=emit, args=(n,), name=f"t{n}") for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    handler.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2000
    for n in range(4):  # each thread's lines in the order it logged them
        assert [int(line.split()[1]) for line in lines if line.startswith(f"t{n} ")] == list(range(500))


def test_json_lines_keep_their_fields() -> None:
    stream = io.StringIO()
    handler = BackgroundHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("test-background-json")
    log.propagate, log.handlers = False, [handler]
    log.setLevel(logging.INFO)
    log.info("GET /v2/session 200", extra={"fields": {"status": 200, "request_id": "r1"}})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    handler.close()
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["status"] == 200 and first["request_id"] == "r1" and first["message"] == "GET /v2/session 200"
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]
