"""Signed, expiring tokens (video links, dashboard cookies): HMAC-SHA256 over a small payload."""

from __future__ import annotations

import base64
import hashlib
import hmac

import orjson


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_fingerprint(secret: bytes, key_hash: str) -> str:
    """A token's mark of the key it was issued under (from the key's stored hash): a rotated key's tokens
    stop matching. Not the hash itself, so a token does not carry what the store keeps."""
    return hmac.new(secret, key_hash.encode(), hashlib.sha256).hexdigest()[:32]


def sign(secret: bytes, purpose: str, payload: dict, expires_at: int) -> str:
    body = _b64(orjson.dumps({"p": purpose, "d": payload, "e": expires_at}))
    mac = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
    return f"{body}.{mac}"


def verify(secret: bytes, purpose: str, token: str, now: int) -> dict | None:
    """The payload of a valid, unexpired token of this purpose, else None."""
    try:
        body, mac = token.split(".", 1)
        expected = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
        # as bytes: compare_digest refuses str with non-ASCII characters (a TypeError, not a mismatch)
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        data = orjson.loads(_unb64(body))
    except (ValueError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("p") != purpose or not isinstance(data.get("e"), int):
        return None
    if data["e"] < now:
        return None
    payload = data.get("d")
    return payload if isinstance(payload, dict) else None
