from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.documents"
    label = "documents"
