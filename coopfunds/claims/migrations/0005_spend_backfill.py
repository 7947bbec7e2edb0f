"""Every claim that holds money or had it approved gets its spend record (funds.Spend), as the claims services
now write it."""

from django.db import migrations


def backfill(apps, schema_editor):
    Claim = apps.get_model("claims", "Claim")
    Spend = apps.get_model("funds", "Spend")
    rows = []
    claims = Claim.objects.filter(reserved__gt=0) | Claim.objects.filter(approved_amount__isnull=False, status="approved")
    for claim in claims.iterator(chunk_size=2000):
        approved = claim.approved_amount if claim.status == "approved" and claim.approved_amount else 0
        rows.append(
            Spend(
                fund_id=claim.fund_id,
                activity_type_id=claim.activity_type_id,
                reference=f"claim:{claim.pk}",
                held=claim.reserved,
                approved=approved,
            )
        )
        if len(rows) >= 2000:
            Spend.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    Spend.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("claims", "0004_draft_expiry_help"), ("funds", "0004_spend")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
