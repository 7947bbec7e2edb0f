"""How pages write dates in Swedish: "4 dec 2026" (the short month in lower case, as Swedish writes it; Django's
"M" would capitalise it); numbers keep Django's Swedish ("1 234,50")."""

DATE_FORMAT = "j b Y"
DATETIME_FORMAT = "j b Y H:i"
MONTH_DAY_FORMAT = "j b"
YEAR_MONTH_FORMAT = "b Y"
