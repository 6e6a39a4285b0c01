"""`sessionscope import FILE --server URL`: a bulk import through a running server's ingest API.

The local import opens the store itself, so the server must be stopped for it; this one posts the file's
batches to `POST /v2/ingest/sessions` instead, while the server keeps serving and ingesting. Validation,
idempotency and durability are the server's (an answered batch is committed). Lines that are not JSON are
rejected here (the server would refuse their whole batch), and every rejection is reported by the file's
line (NDJSON) or row (Parquet), as the local import does. A batch over the server's size limit (`413`) is
split in two and sent again; `429`/`503` and dropped connections are retried with back-off.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterable
from typing import Any, BinaryIO

import httpx
import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .ingest.parse import NdjsonLines, Unreadable
from .loader import LoadStats, rejection_record, rejection_text

RETRIED = (429, 502, 503, 504)
ATTEMPTS = 8


class RemoteImportError(Exception):
    """The server refused the import as a whole (keys, app, a body it cannot take): nothing more is sent."""


def _default(value: Any) -> Any:
    """JSON for what a Parquet row may hold beyond JSON's types (bytes, decimals): its text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class _Poster:
    def __init__(self, base_url: str, appid: str, ingest_key: str, timeout: float) -> None:
        # the server's address, or its API's (the README's BASE ends in /v2): either reaches /v2/ingest
        self.client = httpx.Client(base_url=base_url.rstrip("/").removesuffix("/v2"), timeout=timeout)
        self.reached = False  # whether any answer came (then a dropped connection is retried)
        self.headers = {
            "appid": appid,
            "X-Ingest-Key": ingest_key,
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
        }

    def close(self) -> None:
        self.client.close()

    def post(self, docs: list[Any]) -> list[dict[str, Any]]:
        """Store `docs`; their rejections, indexed within `docs`. Splits a batch the server finds too large."""
        body = gzip.compress(b"\n".join(orjson.dumps(d, default=_default) for d in docs), compresslevel=1)
        response = self._send(body)
        if response.status_code == 413 and len(docs) > 1:
            half = len(docs) // 2
            tail = self.post(docs[half:])
            return self.post(docs[:half]) + [{**r, "index": r["index"] + half} for r in tail]
        if response.status_code != 200:
            raise RemoteImportError(_message(response))
        answer = response.json()
        return list(answer.get("rejected") or [])

    def _send(self, body: bytes) -> httpx.Response:
        delay = 0.5
        for attempt in range(ATTEMPTS):
            try:
                response = self.client.post("/v2/ingest/sessions", content=body, headers=self.headers)
            except httpx.TransportError as exc:
                # a server never reached is a wrong URL, or one not running: said at once
                if not self.reached or attempt == ATTEMPTS - 1:
                    raise RemoteImportError(f"cannot reach {self.client.base_url}: {exc}") from None
            else:
                self.reached = True
                if response.status_code not in RETRIED or attempt == ATTEMPTS - 1:
                    return response
                retry_after = response.headers.get("retry-after", "")
                delay = max(delay, float(retry_after)) if retry_after.isdigit() else delay
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")


def _message(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"the server answered {response.status_code}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"the server answered {response.status_code}: {response.text[:200]}"


def post_batches(
    base_url: str,
    appid: str,
    ingest_key: str,
    batches: Iterable[list[Any] | NdjsonLines],
    *,
    label: str = "Importing",
    quiet: bool = False,
    rejects: BinaryIO | None = None,
    timeout: float = 300.0,
) -> LoadStats:
    """Send each batch (decoded documents, or an NDJSON file's lines) to the server; count and report as
    `loader.load_batches` does."""
    stats = LoadStats()
    start = time.perf_counter()
    poster = _Poster(base_url, appid, ingest_key, timeout)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn()]
    offset = 0
    try:
        with Progress(*columns, disable=quiet, transient=False) as progress:
            task = progress.add_task(label, total=None, rate="")
            for item in batches:
                docs = item.decode(strict=False) if isinstance(item, NdjsonLines) else item
                readable = [i for i, d in enumerate(docs) if type(d) is not Unreadable]
                rejected = [
                    {"index": i, "sessionId": None, "errors": [d.reason]}
                    for i, d in enumerate(docs) if type(d) is Unreadable
                ]
                if readable:
                    sent = poster.post([docs[i] for i in readable])
                    rejected += [{**r, "index": readable[r["index"]]} for r in sent]
                    stats.accepted += len(readable) - len(sent)
                rejected.sort(key=lambda r: r["index"])
                stats.rejected += len(rejected)
                for r in rejected[: max(0, 5 - len(stats.first_errors))]:
                    stats.first_errors.append(rejection_text(item, offset, r))
                if rejects is not None:
                    rejects.writelines(rejection_record(item, offset, r) for r in rejected)
                offset += len(docs)
                elapsed = time.perf_counter() - start
                progress.update(task, advance=len(docs), rate=f"{offset / elapsed:,.0f}/s" if elapsed > 0 else "")
    finally:
        poster.close()
    stats.seconds = time.perf_counter() - start
    return stats
