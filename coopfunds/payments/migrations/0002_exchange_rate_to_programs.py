"""The monthly exchange-rate table now belongs to programs (programs 0005 took its rows and renamed it)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial"), ("programs", "0005_exchange_rate_from_payments")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="ExchangeRate")]),
    ]
