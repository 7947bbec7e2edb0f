"""Claims in Swedish: a decision reaches each partner in their own language (the inbox and the email alike);
the claim page, its form (a decimal comma), the certification PDF, the review queue and the API speak it."""

from decimal import Decimal

from django.urls import reverse

from coopfunds.accounts.models import Role, RoleAssignment, User
from coopfunds.claims import services
from coopfunds.claims.models import Claim
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.claims.tests.helpers import MISSING, submitted
from coopfunds.claims.tests.test_api import send
from coopfunds.claims.tests.test_web import form_data
from coopfunds.documents.models import Document
from coopfunds.notifications.models import Notification

NBSP = "\xa0"


def swedish_admin(world):
    sven = User.objects.create_user(
        "sven.svensson@fabrikam.example", organisation=world.partner, full_name="Sven Svensson", language="sv"
    )
    RoleAssignment.objects.create(user=sven, role=Role.INCENTIVES_ADMIN, location=world.location)
    return sven


def told(claim):
    return sorted(
        Notification.objects.filter(link=f"/claims/{claim.pk}/")
        .exclude(subject__contains="to review")
        .values_list("user__email", "subject", "body")
    )


def test_an_approval_is_told_in_swedish_and_in_english(claims_world, mailoutbox, django_capture_on_commit_callbacks):
    world = claims_world
    swedish_admin(world)
    claim = services.claim_submit(claim=ready_claim(world, amount="1234.50"), actor=world.partner_admin)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.claim_approve(claim=claim, actor=world.reviewer)
    assert told(claim) == [
        (
            "ada.admin@fabrikam.example",
            f"Claim {claim.pk} approved: Autumn campaign",
            "1,234.50 USD approved. Approved.",
        ),
        (
            "sven.svensson@fabrikam.example",
            f"Anspråk {claim.pk} godkänt: Autumn campaign",
            f"1{NBSP}234,50 USD godkänt. Godkänt.",
        ),
    ]
    assert sorted((m.to, m.subject, m.body.splitlines()[0]) for m in mailoutbox) == [
        (
            ["ada.admin@fabrikam.example"],
            f"Claim {claim.pk} approved: Autumn campaign",
            "1,234.50 USD approved. Approved.",
        ),
        (
            ["sven.svensson@fabrikam.example"],
            f"Anspråk {claim.pk} godkänt: Autumn campaign",
            f"1{NBSP}234,50 USD godkänt. Godkänt.",
        ),
    ]


def test_a_rejection_and_a_request_for_action_are_told_in_swedish(claims_world):
    world = claims_world
    sven = swedish_admin(world)
    rejected = services.claim_reject(
        claim=services.claim_submit(claim=ready_claim(world, invoice="INV-R"), actor=world.partner_admin),
        actor=world.reviewer,
        reasons=MISSING,
        message="The screenshot is missing.",
    )
    mine = Notification.objects.get(user=sven, link=f"/claims/{rejected.pk}/")
    assert (mine.subject, mine.body) == (
        f"Anspråk {rejected.pk} avslaget: Autumn campaign",
        "The screenshot is missing. Du kan bestrida beslutet till och med 20 dec 2026.",
    )
    asked = services.claim_request_action(
        claim=services.claim_submit(claim=ready_claim(world, invoice="INV-A"), actor=world.partner_admin),
        actor=world.reviewer,
        reasons=MISSING,
    )
    mine = Notification.objects.get(user=sven, link=f"/claims/{asked.pk}/")
    assert (mine.subject, mine.body) == (
        f"Anspråk {asked.pk} kräver din åtgärd: Autumn campaign",
        "Granskaren ber om ändringar.",
    )
    english = Notification.objects.get(user=world.partner_admin, link=f"/claims/{rejected.pk}/")
    assert english.body == "The screenshot is missing. You can dispute the decision until 20 Dec 2026."
    assert Decimal(rejected.amount) == Decimal("1000.00")


# --- pages, forms, a PDF and the API in Swedish -----------------------------------------------------------


def in_swedish(*people):
    User.objects.filter(pk__in=[p.pk for p in people]).update(language="sv")


def test_a_swedish_partner_reads_the_claim_page_in_swedish(claims_world, as_persona):
    in_swedish(claims_world.partner_admin)
    claim = ready_claim(claims_world, amount="1234.50")
    html = as_persona("partner_admin").get(reverse("claim_detail", args=[claim.pk])).content.decode()
    for fragment in (
        '<html lang="sv">',
        f'<h1>Anspråk {claim.pk}: Autumn campaign <span class="badge editing">Redigeras</span></h1>',
        "<p><strong>Utkast: skicka in senast 15 feb 2027</strong></p>",
        "<legend>Anspråket</legend>",
        '<label for="id_amount">Begärt belopp:</label>',
        '<input type="text" name="amount" value="1234,50" inputmode="decimal"',
        '<small id="id_amount_helptext">T.ex. 1 250,00</small>',
        '<label for="id_invoice_number">Fakturanummer:</label>',
        '<option value="SEK">SEK – Svenska kronor</option>',
    ):
        assert fragment in html


def test_a_swedish_form_accepts_a_decimal_comma_and_grouping_spaces(claims_world, as_persona):
    in_swedish(claims_world.partner_admin)
    claim = ready_claim(claims_world)
    client = as_persona("partner_admin")
    refused = client.post(
        reverse("claim_detail", args=[claim.pk]), form_data(claim, amount="1 234,50", invoice_amount="2.000,00")
    )
    assert refused.status_code == 400
    assert refused.context["form"].errors == {
        "invoice_amount": ["”2.000,00” är inte ett belopp: skriv det med ett decimalkomma, till exempel 1 234,50."]
    }
    saved = client.post(
        reverse("claim_detail", args=[claim.pk]), form_data(claim, amount="1 234,50", invoice_amount=f"1{NBSP}334,50")
    )
    assert saved.status_code == 302
    claim.refresh_from_db()
    assert (claim.amount, claim.invoice_amount) == (Decimal("1234.50"), Decimal("1334.50"))


def test_the_certification_report_is_written_in_swedish(claims_world, as_persona):
    in_swedish(claims_world.partner_admin)
    claim = services.claim_create(
        fund=claims_world.fund,
        activity_type=claims_world.activity("syndicated-content"),
        name="Eget innehåll",
        actor=claims_world.partner_admin,
    )
    lines = {"person_1": "Ada Admin", "hours_1": "12,5", "rate_1": "80", "person_2": "Uma User", "hours_2": "17,5"}
    data = {"description": "Vårt team skrev artiklarna.", **lines, "rate_2": "70,00"}
    response = as_persona("partner_admin").post(reverse("claim_certification", args=[claim.pk]), data)
    assert response.status_code == 302
    document = Document.objects.get(kind="certification_report")
    assert document.note == f"Internt arbete certifierat: 2 personer, 30 timmar, 2{NBSP}225,00 USD."
    with document.file.open("rb") as f:
        content = f.read()
    shown = [line for line in content.split(b"\n") if line.endswith(b"Tj ET")]
    assert [line[line.index(b"(") :] for line in shown[:10]] == [
        "(Certifieringsrapport: internt utfört arbete) Tj ET".encode("cp1252"),
        f"(Anspråk {claim.pk}: Eget innehåll \\(Syndicated content, FY27 H1\\)) Tj ET".encode("cp1252"),
        b"(Plats: Fabrikam Berlin \\(FAB-001\\)) Tj ET",
        b"(Certifierad av Ada Admin den 20 november 2026) Tj ET",
        "(Utfört arbete) Tj ET".encode("cp1252"),
        "(Vårt team skrev artiklarna.) Tj ET".encode("cp1252"),
        b"(Personer, timmar och timpriser) Tj ET",
        "(1. Ada Admin: 12,5 timmar à 80,00 USD per timme = 1 000,00 USD) Tj ET".encode("cp1252"),
        "(2. Uma User: 17,5 timmar à 70,00 USD per timme = 1 225,00 USD) Tj ET".encode("cp1252"),
        b"(Totalt: 30 timmar, 2 225,00 USD) Tj ET",
    ]


def test_a_swedish_reviewer_clears_the_queue_in_swedish(claims_world, as_persona):
    in_swedish(claims_world.reviewer)
    claim = submitted(claims_world)
    html = as_persona("reviewer").get(reverse("review_queue")).content.decode()
    for fragment in (
        "<h1>Anspråk och bevis att granska</h1>",
        '<option value="proof">Bevis på genomförande</option>',
        '<option value="disputed">Bestridet</option>',
        f'<a href="/review/{claim.pk}/">Anspråk {claim.pk}: Autumn campaign</a>',
        f'<td class="num">1{NBSP}000,00 USD</td>',
        '<td><span class="badge submitted">Inskickat</span></td>',
        '<td class="num">0 dagar</td>',
        '<br><small class="muted">2 dagar kvar</small>',
        '<button type="submit">Godkänn de valda</button>',
    ):
        assert fragment in html


def test_the_api_answers_a_swedish_token_in_swedish(claims_world, api_as):
    in_swedish(claims_world.reviewer)
    claim = submitted(claims_world)
    client = api_as("reviewer")
    refused = send(client, "post", f"/claims/{claim.pk}/reject", {"reasons": [{"code": "because"}]})
    assert (refused.status_code, refused.json()) == (
        422,
        {
            "code": "invalid",
            "message": "Några fält är inte giltiga: reasons.",
            "fields": {"reasons": ["”because” är inte ett skäl i programmets katalog."]},
        },
    )
    bad = send(client, "post", f"/claims/{claim.pk}/approve", {"amount": "abc"})
    assert (bad.status_code, bad.json()["fields"]) == (
        400,
        {"amount": ["Skriv ett belopp över noll med punkt och högst två decimaler, t.ex. 1250.00."]},
    )
    missing = client.get("/api/v1/claims/999999")
    assert (missing.status_code, missing.json()["message"]) == (404, "Anspråket finns inte.")
    assert Claim.objects.get(pk=claim.pk).status == "submitted"


def test_the_timeline_is_written_in_each_readers_language(claims_world, as_persona, api_as):
    in_swedish(claims_world.partner_admin)
    claim = submitted(claims_world)
    services.claim_comment(claim=claim, actor=claims_world.partner_admin, message="Fakturan kommer i morgon.")
    stored = list(claim.events.order_by("id").values_list("message", flat=True))
    assert stored[0] == "Claim started for Syndicated content, FY27 H1."  # stored (and audited) in English
    html = as_persona("partner_admin").get(reverse("claim_detail", args=[claim.pk])).content.decode()
    for fragment in (
        "<p>Anspråket startat för Syndicated content, FY27 H1.</p>",
        "<p>Skickades in för granskning.</p>",
        "<p>Fakturan kommer i morgon.</p>",  # a person's own words, as written
    ):
        assert fragment in html
    swedish = [
        e["message"] for e in api_as("partner_admin").get(f"/api/v1/claims/{claim.pk}/timeline").json()["results"]
    ]
    english = [
        e["message"] for e in api_as("partner_user").get(f"/api/v1/claims/{claim.pk}/timeline").json()["results"]
    ]
    assert swedish[0] == "Anspråket startat för Syndicated content, FY27 H1."
    assert swedish[-1] == english[-1] == "Fakturan kommer i morgon."
    assert english[0] == "Claim started for Syndicated content, FY27 H1."
    assert "Skickades in för granskning." in swedish
    assert "Submitted for review." in english
