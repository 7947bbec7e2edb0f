"""A software WebAuthn authenticator for tests: what a browser and a security key answer to a page's
`navigator.credentials.create()` / `.get()`, as the JSON the page posts (WebAuthn Level 3 `toJSON()`). It makes
a real P-256 key pair and signs real assertions; the server's checks (django-allauth with python-fido2) run
unchanged against it."""

import json
import os
import re
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode
from hashlib import sha256
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import ES256

USER_PRESENT, USER_VERIFIED, ATTESTED = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    return urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


def page_options(html: str) -> dict[str, Any]:
    """The options a page hands to its script (allauth's `<script id="js_data" type="application/json">`)."""
    found = re.search(r'<script id="js_data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the page has no WebAuthn options"
    return json.loads(found.group(1))


class SoftAuthenticator:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle = ""

    def _client_data(self, kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()

    def create(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        """A new credential for `options` (the page's `publicKey` creation options)."""
        assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]
        self.user_handle = options["user"]["id"]
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        public = cbor.encode(dict(ES256.from_cryptography_key(self.key.public_key())))
        auth_data = (
            sha256(options["rp"]["id"].encode()).digest()
            + bytes([USER_PRESENT | USER_VERIFIED | ATTESTED])
            + struct.pack(">I", self.sign_count)
            + bytes(16)  # no AAGUID: "none" attestation
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + public
        )
        attestation = cbor.encode({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "response": {
                "clientDataJSON": b64(client_data),
                "attestationObject": b64(attestation),
                "transports": ["usb"],
            },
            "clientExtensionResults": {"credProps": {"rk": False}},
        }

    def get(self, options: dict[str, Any], origin: str, rp_id: str) -> dict[str, Any]:
        """An assertion for `options` (the page's `publicKey` request options)."""
        allowed = [c["id"] for c in options.get("allowCredentials", [])]
        assert not allowed or b64(self.credential_id) in allowed, "this key is not one the page asks for"
        self.sign_count += 1
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = (
            sha256(rp_id.encode()).digest() + bytes([USER_PRESENT | USER_VERIFIED]) + struct.pack(">I", self.sign_count)
        )
        signature = self.key.sign(auth_data + sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "response": {
                "clientDataJSON": b64(client_data),
                "authenticatorData": b64(auth_data),
                "signature": b64(signature),
                "userHandle": self.user_handle or None,
            },
            "clientExtensionResults": {},
        }
