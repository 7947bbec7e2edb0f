from django.db.models import QuerySet

from coopfunds.accounts.models import User
from coopfunds.notifications.models import Notification


def notifications_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
