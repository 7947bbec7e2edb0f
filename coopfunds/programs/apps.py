from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.programs"
    label = "programs"
