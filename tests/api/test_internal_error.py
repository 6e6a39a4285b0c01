"""An unexpected failure answers 500 in the error shape, with a request id, and keeps the connection usable."""

from __future__ import annotations

import re
import socket
import threading
import time

import httpx
import uvicorn

from sessionscope.api import create_app
from sessionscope.settings import Settings
from support.server import free_port


def test_a_500_is_shaped_and_keeps_the_connection(tmp_path):
    settings = Settings(data_dir=tmp_path, secret_key="k" * 32)
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("select * from secret_table")  # must not leak

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 20
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        r = httpx.get(f"http://127.0.0.1:{port}/boom")
        assert r.status_code == 500
        body = r.json()
        assert body["success"] is False and body["error"]["status"] == 500 and body["error"]["code"] == "internal_error"
        assert body["error"]["request_id"] == r.headers["x-request-id"]
        assert "secret_table" not in r.text and "Traceback" not in r.text

        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            for path in ("/boom", "/healthz"):
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = sock.recv(65536)
                    assert chunk, f"connection dropped after {path}"
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))
                while len(rest) < length:
                    rest += sock.recv(65536)
                status = int(head.split()[1])
                assert status == (500 if path == "/boom" else 200)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
