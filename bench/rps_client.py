"""Load generator for bench/run.py: N keep-alive clients send one GET for S seconds; prints JSON figures.

Runs as its own process so the clients do not share the server's interpreter. The clients are asyncio
protocols on uvloop that send one pre-encoded request and parse only the status line and Content-Length
of the answer: a client written with `http.client` and threads spends ~150 µs of CPU per request, which
on a 2-core machine takes a core away from the server it measures.

Usage: python bench/rps_client.py PORT URL [URL ...] --clients 32 --seconds 10 --header k=v ...
       (with several URLs, client k sends URL k mod their number: so many distinct requests at once)
       (--until-file PATH: run until PATH exists instead of for --seconds;
        --start-file PATH: connect, then wait until PATH exists before the first request)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import time


class _Client(asyncio.Protocol):
    """One keep-alive connection: send the request, wait for the whole answer, repeat until the deadline."""

    def __init__(self, request: bytes, deadline: list[float], done: asyncio.Future[None]) -> None:
        self.request, self.deadline, self.done = request, deadline, done  # deadline[0] may move
        self.latencies: list[float] = []
        self.errors = 0
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.sent = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def _send(self) -> None:
        self.sent = time.perf_counter()
        assert self.transport is not None
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).lower()
        length = _content_length(head)
        if len(self.buf) < end + 4 + length:
            return
        now = time.perf_counter()
        self.latencies.append(now - self.sent)
        if not head.startswith(b"http/1.1 200"):
            self.errors += 1
        del self.buf[: end + 4 + length]
        if now < self.deadline[0]:
            self._send()
        elif not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


def _content_length(head: bytes) -> int:
    at = head.find(b"content-length:")
    if at < 0:
        return 0
    stop = head.find(b"\r\n", at)
    return int(head[at + 15 : stop if stop >= 0 else len(head)])


async def _run(
    port: int, urls: list[str], headers: dict[str, str], clients: int, seconds: float, until_file: str | None,
    start_file: str | None,
) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    requests = []
    for url in urls:
        lines = [f"GET {url} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items())]
        requests.append(("\r\n".join(lines) + "\r\n\r\n").encode())
    deadline = [math.inf]
    protocols = []
    for k in range(clients):
        done: asyncio.Future[None] = loop.create_future()
        request = requests[k % len(requests)]
        _, proto = await loop.create_connection(lambda d=done, r=request: _Client(r, deadline, d), "127.0.0.1", port)
        protocols.append(proto)
    while start_file is not None and not os.path.exists(start_file):
        await asyncio.sleep(0.01)
    start = time.perf_counter()
    if until_file is None:
        deadline[0] = start + seconds
    for p in protocols:
        p._send()
    while until_file is not None and not os.path.exists(until_file):
        await asyncio.sleep(0.05)
    if until_file is not None:
        deadline[0] = time.perf_counter()
    await asyncio.gather(*(p.done for p in protocols))
    elapsed = time.perf_counter() - start
    for p in protocols:
        if p.transport is not None:
            p.transport.close()
    flat = sorted(x for p in protocols for x in p.latencies)
    return {
        "clients": clients, "requests": len(flat), "seconds": elapsed, "per_second": len(flat) / elapsed,
        "errors": sum(p.errors for p in protocols), "p50_ms": statistics.median(flat) * 1000,
        "p95_ms": flat[int(0.95 * (len(flat) - 1))] * 1000, "p99_ms": flat[int(0.99 * (len(flat) - 1))] * 1000,
        "max_ms": flat[-1] * 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("urls", nargs="+", metavar="URL")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--until-file")
    ap.add_argument("--start-file")
    args = ap.parse_args()
    headers = dict(h.split("=", 1) for h in args.header)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.run
    print(json.dumps(runner(_run(args.port, args.urls, headers, args.clients, args.seconds, args.until_file, args.start_file))))


if __name__ == "__main__":
    main()
