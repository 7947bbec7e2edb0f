from django.db import models


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def status_constraint(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    """The database refuses a status that is not one of its enum's values."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)
