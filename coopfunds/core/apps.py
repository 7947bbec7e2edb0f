from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.core"
    label = "core"
