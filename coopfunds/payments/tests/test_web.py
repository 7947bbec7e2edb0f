"""Every payments page and form over every persona: who sees it (outsiders 404), who may act (else 403, and
nothing changes), and bank details never in a page."""

import re
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import PERSONAS
from coopfunds.accounts.models import User
from coopfunds.audit.models import AuditEvent
from coopfunds.claims.tests.conftest import pdf
from coopfunds.funds.models import Transfer
from coopfunds.payments import runs, services
from coopfunds.payments.models import PayingEntity, Payment, PaymentDispute, PaymentRun
from coopfunds.payments.tests.conftest import ENTITY_IBAN, PARTNER_IBAN, RUN_DATE, exported
from coopfunds.programs.models import ExchangeRate

VENDOR = {"program_manager", "reviewer", "finance", "auditor"}
BERLIN = {"partner_admin", "partner_user"} | VENDOR
NBSP = "\xa0"


def pdf_text(data: bytes) -> str:
    """The text shown by a PDF's (deflated) content streams, as fpdf2 writes it: (text) Tj."""
    streams = re.findall(rb"stream\r?\n(.*?)endstream", data, re.DOTALL)
    shown = []
    for raw in streams:
        try:  # a decompressor stops at the stream's end: the line break before "endstream" is left over
            shown.append(zlib.decompressobj().decompress(raw).decode("latin-1"))
        except zlib.error:
            continue
    return " ".join(re.findall(r"\((.*?)\) ?Tj", "\n".join(shown)))


def expect(persona, *, visible, allowed, ok):
    if persona == "anonymous":
        return 302
    if persona not in visible:
        return 404
    return ok if persona in allowed else 403


def state():
    return (
        list(Payment.objects.order_by("id").values_list("id", "status", "tax_invoice_number")),
        list(PaymentRun.objects.order_by("id").values_list("id", "status")),
        Transfer.objects.count(),
        AuditEvent.objects.count(),
        PaymentDispute.objects.count(),
        ExchangeRate.objects.count(),
        PayingEntity.objects.count(),
    )


@pytest.fixture
def done(pay_world):
    """An exported run; Berlin's payment in progress, a dispute of it open."""
    run = exported(pay_world)
    pay_world.run = run
    pay_world.payment = Payment.objects.get(location=pay_world.location)
    pay_world.dispute = services.payment_dispute_open(
        payment=pay_world.payment, reason="Short", upload=None, actor=pay_world.partner_admin
    )
    return pay_world


def pages(w):
    p, run = w.payment, w.run
    bank_file = run.bank_files.order_by("id").first()
    everyone = set(PERSONAS) - {"anonymous"}
    return [
        (reverse("payment_list"), everyone),
        (reverse("payment_detail", args=[p.pk]), BERLIN),
        (reverse("payment_remittance", args=[p.pk]), BERLIN),
        (reverse("payment_statement_csv") + f"?location={w.location.pk}", BERLIN),
        (reverse("payment_run_list"), VENDOR),
        (reverse("payment_run_detail", args=[run.pk]), VENDOR),
        (reverse("exchange_rate_list"), VENDOR),
        (reverse("paying_entity_list"), VENDOR),
    ], (reverse("payment_run_file", args=[run.pk, bank_file.pk]), VENDOR)


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_matrix_and_no_bank_details(done, as_persona, persona):
    client = as_persona(persona)
    listed, (file_url, file_visible) = pages(done)
    for url, visible in listed:
        response = client.get(url)
        assert response.status_code == expect(persona, visible=visible, allowed=visible, ok=200), url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert PARTNER_IBAN.encode() not in body, url
        assert ENTITY_IBAN.encode() not in body, url
    response = client.get(file_url)
    assert response.status_code == expect(persona, visible=file_visible, allowed={"finance"}, ok=200)
    if persona == "finance":  # the bank file is the one place the account is written out
        assert PARTNER_IBAN.encode() in response.content


def test_other_partner_sees_only_their_payments(done, as_persona):
    body = as_persona("other_admin").get(reverse("payment_list")).content.decode()
    assert done.payment.end_to_end_id not in body
    assert (
        as_persona("partner_user").get(reverse("payment_list")).content.decode().count(done.payment.end_to_end_id) == 1
    )


def posts(w):
    p = w.payment
    return [
        (
            "sent",
            reverse("payment_action", args=[p.pk, "sent"]),
            {"note": "ok", "bank_reference": "B1"},
            BERLIN,
            {"finance"},
        ),
        ("dispute", reverse("payment_dispute", args=[p.pk]), {"reason": "x"}, BERLIN, set()),  # one is open already
        (
            "resolve",
            reverse("payment_dispute_resolve", args=[w.dispute.pk]),
            {"resolution": "Paid right."},
            BERLIN,
            {"finance"},
        ),
        ("rates", reverse("exchange_rate_list"), {"file": "rates"}, VENDOR, {"finance"}),
        (
            "entity",
            reverse("paying_entity_list"),
            {
                "code": "contoso-us",
                "name": "Contoso Inc",
                "country": "DE",
                "iban": "DE75512108001245126199",
                "bic": "",
                "run_day": "15",
                "tax_invoice_countries": "IN",
            },
            VENDOR,
            {"finance"},
        ),
        ("assign", reverse("paying_entity_assign", args=[w.entity.pk]), {"program": w.program.pk}, VENDOR, {"finance"}),
        (
            "prepare",
            reverse("payment_run_list"),
            {"entity": w.entity.pk, "run_date": "2026-11-30"},
            VENDOR,
            {"finance"},
        ),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("index", range(7))
def test_post_matrix_nothing_changes_on_denial(done, as_persona, persona, index):
    name, url, data, visible, allowed = posts(done)[index]
    if name == "rates":
        data = {"file": SimpleUploadedFile("r.csv", b"month,source,target,rate\n2026-12,USD,EUR,0.91\n")}
    before = state()
    response = as_persona(persona).post(url, data)
    status = expect(persona, visible=visible, allowed=allowed, ok=302)
    if name == "dispute" and persona == "partner_admin":
        status = 400  # allowed, but a dispute is already open
    assert response.status_code == status, response.content[:300]
    if status != 302:
        assert state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_approve_matrix_four_eyes(done, as_persona, persona):
    w = done
    run = runs.payment_run_prepare(entity=w.entity, run_date=RUN_DATE, actor=w.finance2)
    before = state()
    response = as_persona(persona).post(reverse("payment_run_action", args=[run.pk, "approve"]))
    assert response.status_code == expect(persona, visible=VENDOR, allowed={"finance"}, ok=302)
    if persona != "finance":
        assert state() == before
    else:
        run.refresh_from_db()
        assert run.status == "approved"


def test_preparer_cannot_approve_on_the_page(done, as_persona):
    run = runs.payment_run_prepare(entity=done.entity, run_date=RUN_DATE, actor=done.finance)
    assert as_persona("finance").post(reverse("payment_run_action", args=[run.pk, "approve"])).status_code == 403


@pytest.fixture
def waiting(pay_world):
    pay_world.entity.tax_invoice_countries = ["DE"]
    pay_world.entity.save()
    exported(pay_world)
    pay_world.payment = Payment.objects.get(location=pay_world.location)
    return pay_world


@pytest.mark.parametrize("persona", PERSONAS)
def test_tax_invoice_form_matrix(waiting, as_persona, persona):
    url = reverse("payment_tax_invoice", args=[waiting.payment.pk])
    before = state()
    response = as_persona(persona).post(url, {"number": "12345", "invoice_date": "2026-11-02", "file": pdf("t.pdf")})
    assert response.status_code == expect(persona, visible=BERLIN, allowed={"partner_admin"}, ok=302)
    if persona != "partner_admin":
        assert state() == before


def test_tax_invoice_form_field_errors(waiting, as_persona):
    response = as_persona("partner_admin").post(
        reverse("payment_tax_invoice", args=[waiting.payment.pk]),
        {"number": "ABC", "invoice_date": "2026-11-02", "file": pdf("t.pdf")},
    )
    assert response.status_code == 400
    assert "A tax invoice number has digits only (0-9)." in response.content.decode()


def test_rates_upload_errors_name_rows(done, as_persona):
    upload = SimpleUploadedFile("r.csv", b"month,source,target,rate\n2026-13,USD,XXY,-1\n")
    response = as_persona("finance").post(reverse("exchange_rate_list"), {"file": upload})
    text = response.content.decode()
    assert response.status_code == 400
    for message in (
        "Row 2, month:",
        "Row 2, target: “XXY” is not an ISO 4217 currency code",
        "Row 2, rate: A rate is more than zero.",
    ):
        assert message in text


def test_remittance_pdf_lists_what_it_covers(done, as_persona):
    response = as_persona("partner_admin").get(reverse("payment_remittance", args=[done.payment.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    for fragment in (
        "Remittance advice - Contoso Ltd",
        done.payment.end_to_end_id,
        "Rebate",
        "18,000.00 USD",
        "16,200.00 EUR",
        "17,100.00 EUR",
        "**** 3000",
    ):
        assert fragment in text


def test_a_swedish_partner_reads_the_payment_and_its_remittance_advice_in_swedish(done, as_persona):
    User.objects.filter(pk=done.partner_admin.pk).update(language="sv")
    client = as_persona("partner_admin")
    html = client.get(reverse("payment_detail", args=[done.payment.pk])).content.decode()
    for fragment in (
        f"<h1>Betalning {done.payment.end_to_end_id}</h1>",
        '<dt>Status</dt><dd><span class="badge in_progress">Pågår</span></dd>',
        f"<dt>Belopp</dt><dd>17{NBSP}100,00 EUR</dd>",
        "<dt>Körningsdatum</dt><dd>30 nov 2026</dd>",
        "<td>Godkända anspråk, bevis på genomförande och planutbetalningar</td>",
        f'<td class="num">18{NBSP}000,00 USD</td>',
        '<td class="num">0,9</td><td>nov 2026</td>',
        "Ladda ner betalningsaviseringen (PDF)",
    ):
        assert fragment in html
    listed = client.get(reverse("payment_list")).content.decode()
    assert '<option value="" selected>- Välj ett alternativ -</option>' in listed  # Django's own, ours in Swedish
    text = pdf_text(client.get(reverse("payment_remittance", args=[done.payment.pk])).content)
    assert text == (
        f"Betalningsavisering - Contoso Ltd Betalning {done.payment.end_to_end_id} Status Pågår "
        "Partner Fabrikam - Fabrikam Berlin \\(FAB-001\\) Genomförandedatum 30 nov 2026 "
        "Betalas till Fabrikam GmbH, konto **** 3000 Bankreferens - Belopp 17 100,00 EUR "
        "Vad den här betalningen omfattar Program Period Vad Belopp Kurs \\(månad\\) Utbetalt "
        "Cloud Co-op FY27 H1 Godkända anspråk, bevis på genomförande och planutbetalningar "
        "1 000,00 USD 0,9 \\(nov 2026\\) 900,00 EUR "
        "Cloud Co-op FY27 H1 Rabatt 18 000,00 USD 0,9 \\(nov 2026\\) 16 200,00 EUR Totalt 17 100,00 EUR"
    )
