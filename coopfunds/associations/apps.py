from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.associations"
    label = "associations"
