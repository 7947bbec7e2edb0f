from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.api"
    label = "api"
