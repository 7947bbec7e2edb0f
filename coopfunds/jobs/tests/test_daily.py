import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_daily_run_runs_every_job_and_a_second_run_does_nothing_more(enrolled, capsys):
    call_command("daily_jobs", "--today", "2027-01-01")
    first = capsys.readouterr().out
    call_command("daily_jobs", "--today", "2027-01-01")
    second = capsys.readouterr().out
    assert (
        first.splitlines()[0]
        == "funds: close ended earning periods, forfeit expired funds: {'closed': 0, 'forfeited': 0}"
    )
    assert len(first.splitlines()) == 6
    assert second == first
