"""Bank files of a run: ISO 20022 pain.001.001.03 credit transfers (one file per currency, made with the
sepaxml library and validated against the schema it ships) for accounts with an IBAN, and one CSV with every
payment (accounts without an IBAN are paid from it).

This is the one place where bank details are decrypted: the files are built in memory and stored encrypted
(`BankFile.content`); nothing here logs or returns them otherwise.
"""

import csv
import hashlib
import io
from collections import defaultdict
from decimal import Decimal

from sepaxml import SepaTransfer

from coopfunds.funds.exports import safe_text
from coopfunds.payments.models import BankFile, Payment, PaymentRun

SCHEMA = "pain.001.001.03"
CSV_HEADER = (
    "End-to-end ID",
    "Execution date",
    "Partner ID",
    "Location",
    "Beneficiary",
    "Method",
    "Bank country",
    "IBAN",
    "BIC",
    "Account number",
    "Routing code",
    "Amount",
    "Currency",
    "Remittance information",
)


def remittance_text(run: PaymentRun, payment: Payment) -> str:
    return f"{run.entity.name} co-op payment {payment.end_to_end_id} partner {payment.location.partner_id}"[:140]


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def pain001(run: PaymentRun, currency: str, payments: list[Payment]) -> bytes:
    """One pain.001.001.03 document; sepaxml validates it against the schema before returning it."""
    entity = run.entity
    config = {
        "name": entity.name,
        "IBAN": str(entity.iban),
        "batch": True,
        "currency": currency,
        "domestic": currency != "EUR",  # the SEPA service level only for euro transfers
    }
    if entity.bic:
        config["BIC"] = str(entity.bic)
    transfer = SepaTransfer(config, schema=SCHEMA, clean=True)
    message_id = f"{run.message_id}-{currency}"[:35]
    transfer.msg_id = message_id
    header = transfer._xml.find("CstmrCdtTrfInitn/GrpHdr/MsgId")
    if header is not None:
        header.text = message_id  # stable, traceable message ID instead of the library's random one
    for payment in payments:
        profile = payment.payout_profile
        assert profile is not None
        item = {
            "name": profile.beneficiary_name,
            "IBAN": str(profile.iban),
            "amount": _cents(payment.amount),
            "currency": currency,
            "execution_date": run.run_date,
            "description": remittance_text(run, payment),
            "endtoend_id": payment.end_to_end_id,
        }
        if profile.bic:
            item["BIC"] = str(profile.bic)
        transfer.add_payment(item)
    return bytes(transfer.export(validate=True))


def csv_text(run: PaymentRun, payments: list[Payment]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for p in payments:
        profile = p.payout_profile
        assert profile is not None
        texts = [
            p.location.partner_id,
            p.location.name,
            profile.beneficiary_name,
            profile.method,
            str(profile.bank_country),
            str(profile.iban),
            str(profile.bic),
            str(profile.account_number),
            str(profile.routing_code),
        ]
        writer.writerow(
            [
                p.end_to_end_id,
                run.run_date.isoformat(),
                *[safe_text(t) for t in texts],
                format(p.amount, "f"),
                p.currency,
                safe_text(remittance_text(run, p)),
            ]
        )
    return out.getvalue()


def _file(run: PaymentRun, kind: str, currency: str, name: str, content: str, payments: list[Payment]) -> BankFile:
    return BankFile(
        run=run,
        kind=kind,
        currency=currency,
        file_name=name,
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        transactions=len(payments),
        total=sum((p.amount for p in payments), Decimal(0)),
    )


def build(run: PaymentRun, payments: list[Payment]) -> list[BankFile]:
    """The run's files (unsaved): pain.001 per currency of the IBAN payments, then the CSV of all."""
    by_currency: dict[str, list[Payment]] = defaultdict(list)
    for p in payments:
        if p.payout_profile is not None and p.payout_profile.iban:
            by_currency[p.currency].append(p)
    files = [
        _file(
            run,
            BankFile.Kind.PAIN001,
            currency,
            f"run-{run.pk}-{currency}-pain001.xml",
            pain001(run, currency, group).decode("utf-8"),
            group,
        )
        for currency, group in sorted(by_currency.items())
    ]
    files.append(_file(run, BankFile.Kind.CSV, "", f"run-{run.pk}-payments.csv", csv_text(run, payments), payments))
    return files
