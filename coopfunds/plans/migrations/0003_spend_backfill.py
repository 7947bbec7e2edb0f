"""Every proof of execution that holds money or had it made payable gets its spend record (funds.Spend), limited
by its plan, as the proof services now write it."""

from django.db import migrations


def backfill(apps, schema_editor):
    Proof = apps.get_model("plans", "Proof")
    Spend = apps.get_model("funds", "Spend")
    rows = []
    proofs = (Proof.objects.filter(reserved__gt=0) | Proof.objects.filter(payable__gt=0)).filter(fund__isnull=False)
    for proof in proofs.select_related("activity").iterator(chunk_size=2000):
        rows.append(
            Spend(
                fund_id=proof.fund_id,
                activity_type_id=proof.activity.activity_type_id,
                reference=f"proof:{proof.pk}",
                within=f"plan:{proof.plan_id}",
                held=proof.reserved,
                approved=proof.payable,
            )
        )
        if len(rows) >= 2000:
            Spend.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    Spend.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("plans", "0002_plan_reasons"), ("funds", "0004_spend")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
