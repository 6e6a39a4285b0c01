"""The public URL (session `url`, `dashboard_link`, video links, the demo's printout) follows the listen
port unless it is configured: a server moved to another port must not hand out links to port 8000."""

import pytest

from sessionscope.settings import Settings


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SESSIONSCOPE_HOST", "SESSIONSCOPE_PORT", "SESSIONSCOPE_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)


def test_derived_from_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().public_url == "http://127.0.0.1:8000"
    monkeypatch.setenv("SESSIONSCOPE_PORT", "9123")
    assert Settings().public_url == "http://127.0.0.1:9123"
    monkeypatch.setenv("SESSIONSCOPE_HOST", "0.0.0.0")  # listens everywhere: links name this machine
    assert Settings().public_url == "http://127.0.0.1:9123"
    assert Settings(host="::1", port=5).public_url == "http://[::1]:5"
    assert Settings(host="10.1.2.3", port=80).public_url == "http://10.1.2.3:80"


def test_a_configured_url_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSIONSCOPE_PUBLIC_URL", "https://sessions.example.com")
    monkeypatch.setenv("SESSIONSCOPE_PORT", "9123")
    s = Settings()
    assert s.public_url == "https://sessions.example.com"
    assert s.listening_on("0.0.0.0", 7000).public_url == "https://sessions.example.com"


def test_serve_options_move_a_derived_url() -> None:
    s = Settings().listening_on(None, 7000)
    assert (s.host, s.port, s.public_url) == ("127.0.0.1", 7000, "http://127.0.0.1:7000")
    s = Settings(port=9000).listening_on("192.168.0.5", None)
    assert s.public_url == "http://192.168.0.5:9000"
    assert Settings().listening_on(None, None).public_url == "http://127.0.0.1:8000"
