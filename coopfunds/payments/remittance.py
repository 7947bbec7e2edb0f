"""The remittance advice of a payment: a PDF (fpdf2) listing what the payment covers, line by line, with the
exchange rate each used. The account shows masked (last four characters), never in full.

It is written in the active language (the request's); made for one person outside a request (a background job),
in theirs: `remittance_pdf(..., reader=user)`."""

from decimal import Decimal

from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext
from fpdf import FPDF

from coopfunds.accounts.models import User
from coopfunds.core.i18n import day_lazy
from coopfunds.core.money import money
from coopfunds.payments.models import Payment, PaymentLine

# What the core fonts (Latin-1) lack, and its close stand-in.
_STAND_INS = str.maketrans(
    {"•": "*", "–": "-", "—": "-", "→": "->", "”": '"', "“": '"', "’": "'", "‘": "'", "\u202f": " ", "\u2009": " "}
)


def _latin(text: object) -> str:
    """The PDF's core fonts hold Latin-1 (Swedish letters included); anything else becomes a close ASCII
    stand-in."""
    value = str(text).translate(_STAND_INS)
    return value.encode("latin-1", "replace").decode("latin-1")


def _money(amount: Decimal, currency: str) -> str:
    return money(amount, currency)


def remittance_pdf(payment: Payment, lines: list[PaymentLine], *, reader: User | None = None) -> bytes:
    """The PDF in the active language, or in `reader`'s (the site's if they chose none) when it is made for one
    person outside a request."""
    if reader is None:
        return _pdf(payment, lines)
    with translation.override(reader.language or settings.LANGUAGE_CODE):
        return _pdf(payment, lines)


def _pdf(payment: Payment, lines: list[PaymentLine]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin(gettext("Remittance advice %(payment)s") % {"payment": payment.end_to_end_id}))
    pdf.set_creator("Coopfunds")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    heading = gettext("Remittance advice - %(entity)s") % {"entity": payment.entity.name}
    pdf.cell(0, 10, _latin(heading), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    profile = payment.payout_profile
    location = payment.location
    facts = [
        (gettext("Payment"), payment.end_to_end_id),
        (gettext("Status"), payment.get_status_display()),
        (gettext("Partner"), f"{location.organisation.name} - {location.name} ({location.partner_id})"),
        (
            gettext("Execution date"),
            str(day_lazy(payment.run.run_date)) if payment.run else gettext("not scheduled yet"),
        ),
        (
            gettext("Paid to"),
            gettext("%(beneficiary)s, account %(account)s")
            % {"beneficiary": profile.beneficiary_name, "account": profile.masked_account}
            if profile
            else gettext("no payout profile"),
        ),
        (gettext("Bank reference"), payment.bank_reference or "-"),
        (gettext("Amount"), _money(payment.amount, payment.currency)),
    ]
    for label, value in facts:
        pdf.set_font("helvetica", "B", 10)
        pdf.cell(40, 6, _latin(label))
        pdf.set_font("helvetica", "", 10)
        pdf.multi_cell(0, 6, _latin(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(0, 8, _latin(gettext("What this payment covers")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    with pdf.table(
        col_widths=(38, 22, 50, 28, 24, 28), text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")
    ) as table:
        columns = [
            gettext("Program"),
            gettext("Period"),
            gettext("What"),
            gettext("Amount"),
            gettext("Rate (month)"),
            gettext("Paid"),
        ]
        table.row([_latin(c) for c in columns])
        for line in lines:
            rate = number_format(line.rate.normalize())
            table.row(
                [
                    _latin(line.fund.program.name),
                    _latin(line.fund.label),
                    _latin(line.what),
                    _latin(_money(line.source_amount, line.source_currency)),
                    _latin(f"{rate} ({date_format(line.rate_month, 'YEAR_MONTH_FORMAT')})"),
                    _latin(_money(line.amount, payment.currency)),
                ]
            )
        table.row([_latin(gettext("Total")), "", "", "", "", _latin(_money(payment.amount, payment.currency))])
    return bytes(pdf.output())
