from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.demo"
    label = "demo"
