from django.core.mail import send_mail
from django.tasks import task


@task()
def send_email(*, to: list[str], subject: str, body: str) -> None:
    """Send one plain-text email. Services enqueue it with transaction.on_commit, never before."""
    send_mail(subject, body, None, to)
