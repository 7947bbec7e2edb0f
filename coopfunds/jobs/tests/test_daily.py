import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_daily_run_runs_every_job_and_a_second_run_does_nothing_more(enrolled, capsys):
    call_command("daily_jobs", "--today", "2027-01-01")
    first = capsys.readouterr().out
    call_command("daily_jobs", "--today", "2027-01-01")
    second = capsys.readouterr().out
    assert first.splitlines()[:2] == [
        "funds: close ended earning periods, re-evaluate late earnings, forfeit expired funds: "
        "{'closed': 0, 'reevaluated': 0, 'forfeited': 0}",
        "funds: remind of co-op about to be forfeited and claiming windows closing, escalate late payments: "
        "{'expiry': 0, 'window': 0, 'payment_late': 0}",
    ]
    assert first.splitlines()[-2:] == [
        "notifications: weekly digests: 0",
        "audit: seal new audit rows into the hash chain: 0",
    ]
    assert (
        "fund requests: give back money unclaimed past its deadline, escalate overdue reviews: "
        "{'returned': 0, 'escalated': 0}"
    ) in first.splitlines()
    assert len(first.splitlines()) == 10
    assert second == first
