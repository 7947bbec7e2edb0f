"""How pages write dates in English (what they always wrote: "4 Dec 2026"); numbers keep Django's."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
