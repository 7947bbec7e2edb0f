"""A SAML 2.0 identity provider is configured like an OpenID Connect one: its metadata is read from its address
(a real HTTP server on loopback here), Coopfunds publishes its own service-provider metadata, a sign-in starts
with an authentication request to the provider's single sign-on address, and the provider's answer is a response
whose assertion it signs (made here with xmlsec and the provider's key, as an identity provider makes it; the
checks are python3-saml's, unchanged)."""

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
from coopfunds.audit.models import AuditEvent

ENTITY = "https://idp.fabrikam.example/metadata"


IDP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate() -> str:
    key = IDP_KEY
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


CERTIFICATE = certificate()


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
        <ds:X509Data><ds:X509Certificate>{CERTIFICATE}</ds:X509Certificate></ds:X509Data>
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


SAMLP, SAML, DS = (
    "urn:oasis:names:tc:SAML:2.0:protocol",
    "urn:oasis:names:tc:SAML:2.0:assertion",
    "http://www.w3.org/2000/09/xmldsig#",
)
HOST = "http://coopfunds.example"
ACS = f"{HOST}/accounts/saml/fabrikam-saml/acs/"


def signed_response(*, email: str, verified: str | None, in_response_to: str, sign: bool = True) -> str:
    """The provider's answer: a Response whose Assertion it signs (enveloped, exclusive c14n, RSA-SHA256)."""
    import xmlsec
    from lxml import etree
    from xmlsec import constants as c

    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    earlier = (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    verified_attribute = (
        f'<saml:Attribute Name="email_verified"><saml:AttributeValue>{verified}</saml:AttributeValue></saml:Attribute>'
        if verified is not None
        else ""
    )
    xml = f"""<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_r{now.timestamp():.0f}" Version="2.0"
 IssueInstant="{stamp}" Destination="{ACS}" InResponseTo="{in_response_to}">
<saml:Issuer>{ENTITY}</saml:Issuer>
<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
<saml:Assertion ID="_a{now.timestamp():.0f}" Version="2.0" IssueInstant="{stamp}">
<saml:Issuer>{ENTITY}</saml:Issuer>
<saml:Subject>
<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">subject-{email}</saml:NameID>
<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
<saml:SubjectConfirmationData NotOnOrAfter="{later}" Recipient="{ACS}" InResponseTo="{in_response_to}"/>
</saml:SubjectConfirmation>
</saml:Subject>
<saml:Conditions NotBefore="{earlier}" NotOnOrAfter="{later}">
<saml:AudienceRestriction><saml:Audience>{HOST}/accounts/saml/fabrikam-saml/metadata/</saml:Audience></saml:AudienceRestriction>
</saml:Conditions>
<saml:AuthnStatement AuthnInstant="{stamp}" SessionIndex="_s1"><saml:AuthnContext>
<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>
</saml:AuthnContext></saml:AuthnStatement>
<saml:AttributeStatement>
<saml:Attribute Name="email"><saml:AttributeValue>{email}</saml:AttributeValue></saml:Attribute>
{verified_attribute}
</saml:AttributeStatement>
</saml:Assertion>
</samlp:Response>"""
    document = etree.fromstring(xml.encode())
    if sign:
        assertion = document.find(f"{{{SAML}}}Assertion")
        signature = xmlsec.template.create(assertion, c.TransformExclC14N, c.TransformRsaSha256, ns="ds")
        assertion.insert(1, signature)
        reference = xmlsec.template.add_reference(signature, c.TransformSha256, uri=f"#{assertion.get('ID')}")
        xmlsec.template.add_transform(reference, c.TransformEnveloped)
        xmlsec.template.add_transform(reference, c.TransformExclC14N)
        xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
        key = xmlsec.Key.from_memory(
            IDP_KEY.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            c.KeyDataFormatPem,
        )
        key.load_cert_from_memory(
            f"-----BEGIN CERTIFICATE-----\n{CERTIFICATE}\n-----END CERTIFICATE-----\n".encode(), c.KeyDataFormatPem
        )
        xmlsec.tree.add_ids(assertion, ["ID"])
        context = xmlsec.SignatureContext()
        context.key = key
        context.sign(signature)
    return base64.b64encode(etree.tostring(document)).decode()


def saml_sign_in(client: Client, **response: Any) -> Any:
    """Start at Coopfunds, then post the provider's answer to our assertion consumer service, as a browser does."""
    start = client.post("/accounts/saml/fabrikam-saml/login/")
    query = parse_qs(urlsplit(start["Location"]).query)
    request = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15).decode()
    request_id = request.split(' ID="', 1)[1].split('"', 1)[0]
    answer = signed_response(in_response_to=request_id, **response)
    posted = client.post(ACS, {"SAMLResponse": answer, "RelayState": query.get("RelayState", [""])[0]})
    assert posted.status_code == 302, posted.content
    return client.get(posted["Location"]) if "/acs/finish/" in posted["Location"] else posted


@pytest.fixture
def fabrikam_saml(world, idp_metadata, settings):  # type: ignore[no-untyped-def]
    settings.ALLOWED_HOSTS = ["coopfunds.example"]
    return sso.identity_provider_create(
        organisation=world.partner,
        protocol="saml",
        key="fabrikam-saml",
        name="Fabrikam (SAML)",
        url=idp_metadata[0],
        client_id=ENTITY,
        actor=world.program_manager,
    )


@pytest.mark.django_db
def test_a_saml_sign_in_with_a_signed_assertion_and_a_verified_email(world, fabrikam_saml):
    client = Client(HTTP_HOST="coopfunds.example")
    done = saml_sign_in(client, email="Ada.Admin@fabrikam.example", verified="true")
    assert (done.status_code, done["Location"]) == (302, "/")
    assert client.get("/api/v1/me").json()["email"] == "ada.admin@fabrikam.example"
    assert sso.providers_linked_to(world.partner_admin) == ["fabrikam-saml"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("verified", "sign", "status", "said", "reason"),
    [
        (None, True, 403, "Fabrikam (SAML) did not confirm your email address", "unverified_email"),
        ("false", True, 403, "Fabrikam (SAML) did not confirm your email address", "unverified_email"),
        # an answer nobody signed is not the provider's: allauth's page of a failed third-party sign-in
        ("true", False, 401, "An error occurred while attempting to login via your third-party account.", "unknown"),
    ],
)
def test_a_saml_answer_that_does_not_prove_the_email_signs_nobody_in(
    world, fabrikam_saml, verified, sign, status, said, reason
):
    client = Client(HTTP_HOST="coopfunds.example")
    done = saml_sign_in(client, email="ada.admin@fabrikam.example", verified=verified, sign=sign)
    assert done.status_code == status
    assert said in done.content.decode()
    assert client.get("/api/v1/me").status_code == 401
    assert sso.providers_linked_to(world.partner_admin) == []
    failed = AuditEvent.objects.get(verb="user.sign_in_failed")
    assert (failed.actor_label, failed.reason, failed.changes) == (
        "system",
        reason,
        {"provider": [None, "fabrikam-saml"]},
    )
