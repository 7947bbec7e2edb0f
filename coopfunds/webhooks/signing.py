"""How deliveries are signed, and how a receiver checks them (the receiver's side is here so that the tests and
the documentation use the very same rule).

Each delivery carries `Coopfunds-Timestamp` (Unix seconds) and `Coopfunds-Signature: t=<timestamp>,v1=<hex>`,
where hex = HMAC-SHA256(secret, "<timestamp>.<body>"). While a rotated secret's predecessor is still honoured
the header carries a second `v1=` signed with it. A receiver accepts a delivery when one signature matches a
secret it holds and the timestamp lies within its replay window (5 minutes by default)."""

import hashlib
import hmac
import secrets

REPLAY_WINDOW = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets_: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secrets_ if s)])


def verify(secret: str, header: str, body: bytes, now: int, window: int = REPLAY_WINDOW) -> bool:
    """The receiver's check: a `v1` signature by `secret`, and a timestamp at most `window` seconds away."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > window:
        return False
    expected = sign(secret, timestamp, body)
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)
