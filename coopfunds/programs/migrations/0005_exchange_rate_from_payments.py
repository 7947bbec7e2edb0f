"""The monthly exchange-rate table moves from payments to programs: claims and proofs convert an invoice in
another currency with it, and they sit below payments. The table is renamed, its rows kept."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import coopfunds.core.money


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0004_earnings_require_association"),
        ("payments", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ExchangeRate",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("month", models.DateField(help_text="The first day of the month the rate applies to.")),
                        ("source", coopfunds.core.money.CurrencyField(max_length=3)),
                        ("target", coopfunds.core.money.CurrencyField(max_length=3)),
                        ("rate", models.DecimalField(decimal_places=8, max_digits=18)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "created_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-month", "source", "target"],
                        "db_table": "payments_exchangerate",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("month", "source", "target"), name="exchangerate_unique_month_pair"
                            ),
                            models.CheckConstraint(condition=models.Q(("rate__gt", 0)), name="exchangerate_positive"),
                            models.CheckConstraint(
                                condition=models.Q(("source", models.F("target")), _negated=True),
                                name="exchangerate_two_currencies",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="exchangerate", table=None),
    ]
