from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.notifications"
    label = "notifications"

    def ready(self) -> None:
        from coopfunds.notifications import signin  # noqa: F401 (connects what is recorded and told of signing in)
