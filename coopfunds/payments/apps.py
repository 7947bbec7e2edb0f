from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.payments"
    label = "payments"
