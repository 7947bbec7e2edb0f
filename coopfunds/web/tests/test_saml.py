"""A SAML 2.0 identity provider is configured like an OpenID Connect one: its metadata is read from its address
(a real HTTP server on loopback here), Coopfunds publishes its own service-provider metadata, and a sign-in
starts with an authentication request to the provider's single sign-on address. (A full SAML sign-in needs a
provider that signs responses; none runs in the tests.)"""

import base64
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError
from django.test import Client

from coopfunds.accounts import sso

ENTITY = "https://idp.fabrikam.example/metadata"


def certificate() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.fabrikam.example")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def idp_metadata() -> Iterator[tuple[str, str]]:
    """(metadata address, single sign-on address) of a provider whose metadata a real HTTP server serves."""
    holder: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/samlmetadata+xml")
            self.end_headers()
            self.wfile.write(holder["xml"])

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_port}"
    holder["xml"] = f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{ENTITY}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>{certificate()}</ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{base}/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>""".encode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{base}/metadata", f"{base}/sso"
    finally:
        server.shutdown()


@pytest.mark.django_db
def test_a_saml_provider_publishes_our_metadata_and_sends_people_to_sign_in(world, idp_metadata, settings):
    settings.ALLOWED_HOSTS = ["coopfunds.example"]  # SAML's toolkit wants a host name with a domain
    metadata_url, sso_url = idp_metadata
    sso.identity_provider_create(
        organisation=world.partner,
        protocol="saml",
        key="fabrikam-saml",
        name="Fabrikam (SAML)",
        url=metadata_url,
        client_id=ENTITY,
        actor=world.program_manager,
    )
    client = Client(HTTP_HOST="coopfunds.example")
    ours = client.get("/accounts/saml/fabrikam-saml/metadata/")
    assert ours.status_code == 200
    assert 'Location="http://coopfunds.example/accounts/saml/fabrikam-saml/acs/"' in ours.content.decode()

    start = client.post("/accounts/saml/fabrikam-saml/login/")
    assert start.status_code == 302
    target = urlsplit(start["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == sso_url
    request = zlib.decompress(base64.b64decode(parse_qs(target.query)["SAMLRequest"][0]), -15).decode()
    assert 'AssertionConsumerServiceURL="http://coopfunds.example/accounts/saml/fabrikam-saml/acs/"' in request
    assert f'Destination="{sso_url}"' in request

    page = client.get("/login/sso/fabrikam-saml/").content.decode()
    assert '<form method="post" action="/accounts/saml/fabrikam-saml/login/">' in page


@pytest.mark.django_db
def test_a_saml_provider_needs_the_identity_providers_entity_id(world):
    with pytest.raises(ValidationError) as refused:
        sso.identity_provider_create(
            organisation=world.partner,
            protocol="saml",
            key="no-entity",
            name="No entity",
            url="https://idp.example/metadata",
            actor=world.program_manager,
        )
    assert refused.value.message_dict == {
        "client_id": ["SAML needs the identity provider's entity ID (it is in its metadata)."]
    }
