from django.db import migrations

REASONS = [
    ("missing_proof_of_distribution", "Missing proof of distribution"),
    ("missing_proof_of_execution", "Missing proof of execution"),
    ("missing_invoice", "Missing or unreadable invoice"),
    ("ineligible_expense", "Ineligible expense"),
    ("over_cap", "Over the activity's cap"),
    ("dates_outside_window", "Dates outside the usage period or claiming window"),
    ("missing_metrics", "Missing metrics"),
    ("duplicate_invoice", "Duplicate invoice"),
    ("amount_mismatch", "Amount does not match the invoice"),
    ("branding", "Vendor branding missing or misused"),
    ("other", "Other (see note)"),
]


def seed(apps, schema_editor):
    ReasonCode = apps.get_model("claims", "ReasonCode")
    for code, label in REASONS:
        ReasonCode.objects.get_or_create(program=None, code=code, defaults={"label": label})


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
