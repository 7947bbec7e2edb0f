"""`manage.py load_preset --vendor "Contoso" --code coop --fiscal-year 2027 [--big]`: the preset program and
its catalogue for a fiscal year. Running it again changes nothing."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from coopfunds.programs.models import ActivityType
from coopfunds.programs.preset import preset_load


class Command(BaseCommand):
    help = "Create the preset co-op program (DOMAIN.md's rules) and its activity catalogue for a fiscal year."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--vendor", required=True, help="The vendor organisation's name (created if missing).")
        parser.add_argument("--code", required=True, help="The program's short code, e.g. coop.")
        parser.add_argument("--name", default="", help="The program's name (default: from the code).")
        parser.add_argument("--currency", default="USD")
        parser.add_argument("--fiscal-year", type=int, required=True, help="Named by the year it ends in: 2027.")
        parser.add_argument("--big", action="store_true", help="A big program: threshold 10,000 instead of 1,500.")
        parser.add_argument("--holiday-country", default="", help="ISO country whose public holidays count.")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["code"]
        try:
            program = preset_load(
                vendor=options["vendor"],
                code=code,
                name=options["name"] or f"{code.replace('-', ' ').title()} program",
                currency=options["currency"],
                fiscal_year=options["fiscal_year"],
                big=options["big"],
                holiday_country=options["holiday_country"],
            )
        except ValidationError as e:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in e.message_dict.items())
            raise CommandError(problems) from None
        count = ActivityType.objects.filter(program=program, fiscal_year=options["fiscal_year"]).count()
        self.stdout.write(
            f"{program}: FY{options['fiscal_year'] % 100:02d} catalogue has {count} activity types, "
            f"threshold {program.coop_threshold} {program.currency}."
        )
