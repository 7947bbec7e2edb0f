from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.audit"
    label = "audit"
