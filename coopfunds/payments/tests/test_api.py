"""The payments API over every persona: reads (outsiders 404), workflow verbs (else 403, nothing changes),
bad input as field errors, and bank details never in a response except finance's bank file."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import PERSONAS, api_status
from coopfunds.claims.tests.conftest import pdf
from coopfunds.payments import runs, services
from coopfunds.payments.models import Payment
from coopfunds.payments.tests.conftest import ENTITY_IBAN, PARTNER_IBAN, RUN_DATE, exported
from coopfunds.payments.tests.test_web import BERLIN, VENDOR, state

API = "/api/v1"


def expect(persona, *, visible, allowed, ok):
    if persona == "anonymous":
        return 401
    if persona not in visible:
        return 404
    return ok if persona in allowed else 403


@pytest.fixture
def done(pay_world):
    pay_world.run = exported(pay_world)
    pay_world.payment = Payment.objects.get(location=pay_world.location)
    pay_world.dispute = services.payment_dispute_open(
        payment=pay_world.payment, reason="Short", upload=None, actor=pay_world.partner_admin
    )
    return pay_world


@pytest.mark.parametrize("persona", PERSONAS)
def test_reads_matrix_and_no_bank_details(done, api_as, persona):
    w, client = done, api_as(persona)
    p, run = w.payment, w.run
    file_id = run.bank_files.order_by("id").first().pk
    everyone = set(PERSONAS) - {"anonymous"}
    reads = [
        ("/payments", everyone),
        (f"/payments/{p.pk}", BERLIN),
        (f"/payments/{p.pk}/remittance", BERLIN),
        (f"/payments/statement?location_id={w.location.pk}", BERLIN),
        ("/payment-disputes", everyone),
        ("/payment-runs", VENDOR),
        (f"/payment-runs/{run.pk}", VENDOR),
        ("/exchange-rates", VENDOR),
        ("/paying-entities", VENDOR),
    ]
    for url, visible in reads:
        response = client.get(API + url)
        assert response.status_code == api_status(
            persona, "GET", API + url, expect(persona, visible=visible, allowed=visible, ok=200)
        ), url
        assert PARTNER_IBAN.encode() not in response.content, url
        assert ENTITY_IBAN.encode() not in response.content, url
    for url in (f"/payment-runs/{run.pk}/files", f"/payment-runs/{run.pk}/files/{file_id}"):
        code = expect(persona, visible=VENDOR, allowed={"finance"}, ok=200)
        assert client.get(API + url).status_code == api_status(persona, "GET", API + url, code)


def test_payment_shape(done, api_as):
    body = api_as("partner_user").get(f"{API}/payments/{done.payment.pk}").json()
    assert (body["status"], body["currency"], body["amount"], body["account"], body["run_id"]) == (
        "in_progress",
        "EUR",
        "17100.00",
        "•••• 3000",
        done.run.pk,
    )
    assert [(ln["bucket"], ln["source_amount"], ln["rate"], ln["amount"]) for ln in body["lines"]] == [
        ("payable", "1000.00", "0.90000000", "900.00"),
        ("rebate", "18000.00", "0.90000000", "16200.00"),
    ]
    assert [r["id"] for r in api_as("other_admin").get(f"{API}/payments").json()["results"]] == [
        Payment.objects.get(location=done.other_location).pk
    ]


def verbs(w):
    p = w.payment
    return [
        (f"/payments/{p.pk}/sent", {"bank_reference": "B1"}, BERLIN, {"finance"}, 200),
        (f"/payments/{p.pk}/failed", {"note": "Cut-off"}, BERLIN, {"finance"}, 200),
        (f"/payment-disputes/{w.dispute.pk}/resolve", {"resolution": "Paid right."}, BERLIN, {"finance"}, 200),
        (
            "/exchange-rates",
            {"rates": [{"month": "2026-12", "source": "USD", "target": "EUR", "rate": "0.91"}]},
            VENDOR,
            {"finance"},
            200,
        ),
        (
            "/paying-entities",
            {"code": "contoso-us", "name": "Contoso Inc", "country": "DE", "iban": "DE75512108001245126199"},
            VENDOR,
            {"finance"},
            201,
        ),
        (f"/paying-entities/{w.entity.pk}/programs", {"program_id": w.program.pk}, VENDOR, {"finance"}, 200),
        ("/payment-runs", {"entity_id": w.entity.pk, "run_date": "2026-11-30"}, VENDOR, {"finance"}, 201),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("index", range(7))
def test_verbs_matrix_nothing_changes_on_denial(done, api_as, persona, index):
    url, body, visible, allowed, ok = verbs(done)[index]
    before = state()
    response = api_as(persona).post(API + url, body, content_type="application/json")
    status = api_status(persona, "POST", API + url, expect(persona, visible=visible, allowed=allowed, ok=ok))
    assert response.status_code == status, response.content[:300]
    if status != ok:
        assert state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_approve_and_dispute_matrix(done, api_as, persona):
    w = done
    run = runs.payment_run_prepare(entity=w.entity, run_date=RUN_DATE, actor=w.finance2)
    before = state()
    response = api_as(persona).post(f"{API}/payment-runs/{run.pk}/approve")
    assert response.status_code == api_status(
        persona,
        "POST",
        f"{API}/payment-runs/{run.pk}/approve",
        expect(persona, visible=VENDOR, allowed={"finance"}, ok=200),
    )
    if persona != "finance":
        assert state() == before
    services.payment_dispute_resolve(dispute=w.dispute, resolution="ok", actor=w.finance)
    before = state()
    response = api_as(persona).post(f"{API}/payments/{w.payment.pk}/disputes", {"reason": "Still short"})
    assert response.status_code == expect(persona, visible=BERLIN, allowed={"partner_admin"}, ok=201)
    if persona != "partner_admin":
        assert state() == before


def test_bad_input_is_field_errors(done, api_as):
    finance = api_as("finance")
    response = finance.post(
        f"{API}/exchange-rates",
        {"rates": [{"month": "2026-13", "source": "USD", "target": "XXY", "rate": "-5"}]},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {
            "rates.0.month": ["Write the month as YYYY-MM, e.g. 2026-11."],
            "rates.0.rate": ["Write the rate with a dot and at most 8 decimals, above zero, e.g. 0.9215."],
        },
    )
    response = finance.post(
        f"{API}/exchange-rates",
        {"rates": [{"month": "2026-12", "source": "USD", "target": "XXY", "rate": "0.5"}]},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["fields"]) == (
        422,
        {"rates.0.target": ["“XXY” is not an ISO 4217 currency code (for example USD, EUR, GBP)."]},
    )
    response = finance.post(f"{API}/payments/{done.payment.pk}/failed", {"note": ""}, content_type="application/json")
    assert (response.status_code, response.json()["fields"]) == (422, {"note": ["Say what the bank reported."]})
    response = finance.post(
        f"{API}/payment-runs", {"entity_id": 999, "run_date": "2026-11-30"}, content_type="application/json"
    )
    assert (response.status_code, response.json()["fields"]) == (422, {"entity_id": ["No paying entity with this id."]})
    response = finance.post(
        f"{API}/paying-entities",
        {"code": "x", "name": "X", "country": "DE", "iban": "DE00"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"iban": ["Write the IBAN without spaces, in capitals, e.g. DE89370400440532013000."]},
    )
    response = finance.post(
        f"{API}/paying-entities",
        {"code": "x", "name": "X", "country": "DE", "iban": "DE89370400440532013001"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["fields"]) == (
        422,
        {"iban": ["This is not a valid IBAN: check it for typing mistakes."]},
    )
    response = finance.post(f"{API}/exchange-rates/import", {"file": SimpleUploadedFile("r.csv", b"a,b\n")})
    assert (response.status_code, response.json()["fields"]) == (
        422,
        {"file": ["The first row must name the columns: month,source,target,rate."]},
    )


def test_tax_invoice_over_the_api(pay_world, api_as):
    pay_world.entity.tax_invoice_countries = ["DE"]
    pay_world.entity.save()
    exported(pay_world)
    payment = Payment.objects.get(location=pay_world.location)
    response = api_as("partner_admin").post(
        f"{API}/payments/{payment.pk}/tax-invoice", {"number": "99", "invoice_date": "2026-11-02", "file": pdf("t.pdf")}
    )
    assert (response.status_code, response.json()["status"]) == (200, "tax_invoice_review")
    response = api_as("finance").post(f"{API}/payments/{payment.pk}/tax-invoice/approve")
    assert (response.status_code, response.json()["status"]) == (200, "upcoming")
