from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.jobs"
    label = "jobs"
