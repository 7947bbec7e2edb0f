"""The app as deployed, with email discarded (a benchmark must not wait on a mail server or a console)."""

from coopfunds.settings import *  # noqa: F403

MAILERS = {"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}
