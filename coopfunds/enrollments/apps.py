from django.apps import AppConfig


class Config(AppConfig):
    name = "coopfunds.enrollments"
    label = "enrollments"
