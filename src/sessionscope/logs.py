"""Server logs on stderr: text lines for people, or JSON lines for log shippers (SESSIONSCOPE_LOG_FORMAT=json).

A request's line carries its fields (method, route, status, duration, app, request id) both in the text and,
in JSON, as keys of their own. Query strings, headers and bodies are never logged: they can hold keys.
"""

from __future__ import annotations

import atexit
import logging
import queue
import sys
import threading
import time
from datetime import UTC, datetime
from typing import TextIO

import orjson

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, message, the record's `fields`, and `exception` if any."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


class BackgroundHandler(logging.Handler):
    """Formats a record in the thread that logs it and leaves the write to a thread of its own.

    A server logs a line per request. Written on the event loop, each line was a write() and a flush()
    there: system calls that give up the interpreter lock, and under load the loop then waited for the
    worker threads to hand it back (about a tenth of the loop's time at 1,400 requests/s). The writer
    thread wakes at the first line, waits `linger` seconds for more, and writes them all at once: under load
    it wakes 20 times a second, not once a request (a wake-up per line still cost a fifth of the server's
    CPU at 2,500 requests/s). Lines are written in order, at most `linger` late; `close` (also at exit)
    writes what is queued. A process killed with SIGKILL loses the lines of its last moments.
    """

    def __init__(self, stream: TextIO | None = None, linger: float = 0.05) -> None:
        super().__init__()
        self.stream = stream if stream is not None else sys.stderr
        self.linger = linger
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="sessionscope-log", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.put(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)

    def _write(self) -> None:
        while True:
            lines = [self._lines.get()]
            if lines[0] is not None:
                time.sleep(self.linger)
            while not self._lines.empty():
                lines.append(self._lines.get_nowait())
            done = None in lines
            text = "".join(f"{line}\n" for line in lines if line is not None)
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):  # stderr closed: nowhere left to write
                pass
            if done:
                return

    def close(self) -> None:
        if self._thread.is_alive():
            self._lines.put(None)
            self._thread.join(5)
        super().close()


def configure(fmt: str, level: int = logging.INFO) -> None:
    """Route every logger (ours and the server's) to one stderr handler in the chosen format."""
    handler = BackgroundHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, BackgroundHandler):
            old.close()
    root.handlers[:] = [handler]
    root.setLevel(level)
