from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class Config(AppConfig):
    name = "coopfunds.web"
    label = "web"

    def ready(self) -> None:
        from django.db.models import fields

        # Django 6.1's new empty choice, which Django's own catalogues do not translate yet: ours does.
        fields.BLANK_CHOICE_LABEL = gettext_lazy("- Select an option -")  # type: ignore[assignment]
