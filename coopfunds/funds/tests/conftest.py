import io
from datetime import UTC, date, datetime

import pytest

from coopfunds.enrollments.models import Enrollment, EnrollmentStatus

HEADER = (
    "earned date,partner ID,program code,amount,currency,earning type,product,customer reference,external line ID\n"
)


def csv_file(*rows: str) -> io.BytesIO:
    return io.BytesIO((HEADER + "".join(r + "\n" for r in rows)).encode())


@pytest.fixture
def enrolled(world):
    """Both Fabrikam locations and the Northwind location enrolled in the program from 1 Jan 2026."""
    for location in (world.location, world.second_location, world.other_location):
        Enrollment.objects.create(
            location=location,
            program=world.program,
            status=EnrollmentStatus.ENROLLED,
            enrolled_at=datetime(2026, 1, 10, tzinfo=UTC),
            earnings_start=date(2026, 1, 1),
        )
    return world
