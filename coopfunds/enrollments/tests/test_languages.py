"""What an enrollment is missing is stored in English and read in each reader's language."""

from django.utils import translation

from coopfunds.enrollments.models import Enrollment


def test_the_reason_is_written_in_the_readers_language_sentence_by_sentence():
    enrollment = Enrollment(status_reason="Add a payout profile (the bank account to pay). Add a tax profile.")
    with translation.override("sv"):
        said = enrollment.reason_text
    assert said == (
        "Lägg till en utbetalningsprofil (bankkontot som pengarna ska betalas till). Lägg till en skatteprofil."
    )
    assert enrollment.reason_text == "Add a payout profile (the bank account to pay). Add a tax profile."
    with translation.override("sv"):
        assert Enrollment(status_reason="Missing the signed terms. Call us.").reason_text == (
            "Missing the signed terms. Call us."
        )
        assert Enrollment(status_reason="").reason_text == ""
