from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.webhooks"
    label = "webhooks"
