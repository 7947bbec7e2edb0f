from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.funds"
    label = "funds"
