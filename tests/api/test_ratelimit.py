"""Rate limits on a real server (SESSIONSCOPE_RATE_LIMIT_PER_SECOND): 429 in the SPEC's error shape with
Retry-After, per app, counted only for authenticated requests, on every read endpoint; off by default."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from support.server import Server

READ = ["/v2/session", "/v2/session/analytics", "/v2/user", "/v2/user/analytics", "/v2/event", "/v2/event/analytics"]


@dataclass
class LimitedServer(Server):
    @property
    def env(self) -> dict[str, str]:
        env = super().env
        env["SESSIONSCOPE_RATE_LIMIT_PER_SECOND"] = "2"  # 3 requests must fit in 0.5 s, even on a busy machine
        return env


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("ratelimit")
    server = LimitedServer(data_dir=data_dir, store_url=f"duckdb:///{data_dir / 'store.duckdb'}")
    a, b = server.create_app("a"), server.create_app("b")
    server.start()
    yield server, a, b
    server.stop()


@pytest.mark.parametrize("path", READ)
def test_over_the_limit_is_429_with_retry_after(limited, path: str) -> None:
    server, a, b = limited
    time.sleep(1.1)
    with server.client() as client:
        codes = [client.get(path, headers=a.read_headers).status_code for _ in range(2)]
        assert codes == [200, 200]
        r = client.get(path, headers=a.read_headers)
        assert r.status_code == 429
        assert r.headers["retry-after"] == "1"
        assert r.json() == {
            "success": False,
            "error": {
                "status": 429,
                "code": "rate_limited",
                "message": "Rate limit exceeded: this app may make 2 requests per second; retry after 1 s.",
            },
        }
        assert client.get(path, headers=b.read_headers).status_code == 200, "another app keeps its budget"
        time.sleep(1.1)
        assert client.get(path, headers=a.read_headers).status_code == 200


def test_wrong_keys_do_not_spend_an_apps_budget(limited) -> None:
    server, a, _ = limited
    time.sleep(1.1)
    with server.client() as client:
        wrong = {"appid": a.appid, "apikey": "not-the-key"}
        assert {client.get("/v2/session", headers=wrong).status_code for _ in range(10)} == {401}
        assert [client.get("/v2/session", headers=a.read_headers).status_code for _ in range(2)] == [200] * 2


def test_off_by_default(loaded) -> None:
    codes = {loaded.client.get("/v2/session", params={"page_size": 1}, headers=loaded.a.read_headers).status_code for _ in range(30)}
    assert codes == {200}


def test_dashboard_pages_take_from_the_same_budget(limited) -> None:
    """A dashboard page runs the same queries as the API (an analytics page, many): it takes one request from
    the app's budget, and over it is a 429 page with Retry-After, not a way around the limit."""
    server, a, b = limited
    with server.client() as client:
        r = client.post("/login", data={"appid": a.appid, "apikey": a.apikey, "next": ""})
        assert r.status_code == 303, r.status_code  # the cookie is kept by the client
        time.sleep(1.1)
        page = f"/app/{a.appid}/analytics?g1=device_model"
        codes = [client.get(page).status_code for _ in range(2)]
        assert codes == [200, 200]
        r = client.get(page)
        assert r.status_code == 429 and r.headers["retry-after"] == "1" and "Too many requests" in r.text
        assert "this app may make 2 requests per second" in r.text
        assert client.get("/v2/session", headers=a.read_headers).status_code == 429  # one budget
        assert client.get("/v2/session", headers=b.read_headers).status_code == 200
