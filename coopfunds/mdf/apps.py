from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.mdf"
    label = "mdf"
