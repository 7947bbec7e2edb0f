from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.accounts"
    label = "accounts"
