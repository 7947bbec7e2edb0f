from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.web"
    label = "web"
