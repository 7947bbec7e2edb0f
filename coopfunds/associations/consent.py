"""The customer's consent link: a signed, expiring, single-use token.

The token is a random nonce (256 bits) signed with a TimestampSigner. Only the nonce's SHA-256 is stored, on
the association; using the link empties it (single use), and so does the end of the consent window. The
token names nothing: no association ID, partner or customer, so a leaked or guessed URL tells nothing, and
an altered, expired, used or unknown token all get the same answer."""

import hashlib
import secrets
from datetime import timedelta

from django.core import signing

SALT = "coopfunds.associations.consent"


def nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def make_token() -> tuple[str, str]:
    """A new (token, hash of its nonce): the token goes into the email, the hash onto the association."""
    nonce = secrets.token_urlsafe(32)
    return signing.TimestampSigner(salt=SALT).sign(nonce), nonce_hash(nonce)


def token_hash(token: str, *, max_age: timedelta) -> str | None:
    """The stored hash a token stands for, or None if it is altered or older than `max_age`."""
    try:
        nonce = signing.TimestampSigner(salt=SALT).unsign(token, max_age=max_age)
    except signing.BadSignature:  # also SignatureExpired
        return None
    return nonce_hash(nonce)
