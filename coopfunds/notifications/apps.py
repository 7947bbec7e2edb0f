from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.notifications"
    label = "notifications"
