from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.claims"
    label = "claims"
