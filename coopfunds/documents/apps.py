from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def malware_scanning_configured(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """`check --deploy`: with scanning required (production's default) and no clamd named, every upload is refused."""
    if settings.CLAMAV_REQUIRED and not settings.CLAMAV_ADDRESS:
        return [
            checks.Warning(
                "CLAMAV_REQUIRED is on but CLAMAV_ADDRESS is not set, so every upload will be refused.",
                hint="Run clamd (Debian's clamav-daemon) and set CLAMAV_ADDRESS=unix:/run/clamav/clamd.ctl or "
                "host:port; or set CLAMAV_REQUIRED=false to store uploads as not scanned.",
                id="coopfunds.W001",
            )
        ]
    return []


class Config(AppConfig):
    name = "coopfunds.documents"
    label = "documents"
