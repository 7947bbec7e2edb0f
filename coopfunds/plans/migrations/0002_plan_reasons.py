from django.db import migrations

# Reasons a reviewer gives on plans and proofs of execution, added to the claims' catalogue (every program).
REASONS = [
    ("plan_budget", "Budget or planned amounts not justified"),
    ("activity_not_eligible", "Activity not eligible for co-op"),
    ("campaign_details", "Campaign details missing or unclear"),
    ("proof_mismatch", "Proof does not match the planned activity"),
]


def seed(apps, schema_editor):
    ReasonCode = apps.get_model("claims", "ReasonCode")
    for code, label in REASONS:
        ReasonCode.objects.get_or_create(program=None, code=code, defaults={"label": label})


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial"), ("claims", "0002_reason_catalogue")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
