from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.plans"
    label = "plans"
