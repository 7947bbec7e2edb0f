"""The remittance advice of a payment: a PDF (fpdf2) listing what the payment covers, line by line, with the
exchange rate each used. The account shows masked (last four characters), never in full."""

from decimal import Decimal

from fpdf import FPDF

from coopfunds.funds.models import Bucket
from coopfunds.payments.models import Payment, PaymentLine

WHAT = {
    Bucket.PAYABLE: "Approved claims, proofs of execution and plan payouts",
    Bucket.REBATE: "Rebate",
    Bucket.CONVERTED: "Co-op converted to rebate (below the threshold)",
}


def _latin(text: object) -> str:
    """The PDF's core fonts hold Latin-1; anything else becomes a close ASCII stand-in."""
    value = str(text).replace("•", "*").replace("–", "-").replace("—", "-").replace("→", "->")
    return value.encode("latin-1", "replace").decode("latin-1")


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def remittance_pdf(payment: Payment, lines: list[PaymentLine]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"Remittance advice {payment.end_to_end_id}")
    pdf.set_creator("Coopfunds")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, _latin(f"Remittance advice - {payment.entity.name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    profile = payment.payout_profile
    facts = [
        ("Payment", payment.end_to_end_id),
        ("Status", payment.get_status_display()),
        ("Partner", f"{payment.location.organisation.name} - {payment.location.name} ({payment.location.partner_id})"),
        ("Execution date", f"{payment.run.run_date:%d %b %Y}" if payment.run else "not scheduled yet"),
        (
            "Paid to",
            f"{profile.beneficiary_name}, account {profile.masked_account}" if profile else "no payout profile",
        ),
        ("Bank reference", payment.bank_reference or "-"),
        ("Amount", _money(payment.amount, payment.currency)),
    ]
    for label, value in facts:
        pdf.set_font("helvetica", "B", 10)
        pdf.cell(40, 6, _latin(label))
        pdf.set_font("helvetica", "", 10)
        pdf.multi_cell(0, 6, _latin(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(0, 8, "What this payment covers", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    with pdf.table(
        col_widths=(38, 22, 50, 28, 24, 28), text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")
    ) as table:
        table.row(["Program", "Period", "What", "Amount", "Rate (month)", "Paid"])
        for line in lines:
            table.row(
                [
                    _latin(line.fund.program.name),
                    _latin(line.fund.label),
                    _latin(WHAT.get(Bucket(line.bucket), line.bucket)),
                    _latin(_money(line.source_amount, line.source_currency)),
                    _latin(f"{line.rate.normalize():f} ({line.rate_month:%b %Y})"),
                    _latin(_money(line.amount, payment.currency)),
                ]
            )
        table.row(["Total", "", "", "", "", _latin(_money(payment.amount, payment.currency))])
    return bytes(pdf.output())
