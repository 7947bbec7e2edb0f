"""Template filters for the sign-in pages."""

from datetime import timedelta

from django import template
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def duration_words(value: timedelta | None) -> str:
    """timedelta(minutes=90) -> "1 hour 30 minutes" (in the active language); rounds up to the minute;
    None -> ""."""
    if value is None:
        return ""
    minutes = max(1, -(-int(value.total_seconds()) // 60))
    hours, minutes = divmod(minutes, 60)
    parts = [ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}] if hours else []
    if minutes:
        parts.append(ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes})
    return " ".join(parts)
