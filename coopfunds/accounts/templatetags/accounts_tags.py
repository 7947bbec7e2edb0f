"""Template filters for the sign-in pages."""

from datetime import timedelta

from django import template

register = template.Library()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@register.filter
def duration_words(value: timedelta | None) -> str:
    """timedelta(minutes=90) -> "1 hour 30 minutes"; rounds up to the minute; None -> ""."""
    if value is None:
        return ""
    minutes = max(1, -(-int(value.total_seconds()) // 60))
    hours, minutes = divmod(minutes, 60)
    parts = [_plural(hours, "hour")] if hours else []
    if minutes:
        parts.append(_plural(minutes, "minute"))
    return " ".join(parts)
