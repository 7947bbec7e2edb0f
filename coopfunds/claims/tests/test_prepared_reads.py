"""The API's claim read, compiled once (core.db.Prepared): the same objects the querysets give, in one query each,
on both databases, and the same people refused."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coopfunds.claims import selectors
from coopfunds.claims.models import Claim, ClaimDocument
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.core.db import Prepared
from coopfunds.core.errors import NotFound

pytestmark = pytest.mark.django_db


def columns(obj):  # type: ignore[no-untyped-def]
    return {k: v for k, v in obj.__dict__.items() if not k.startswith("_")}


def test_the_prepared_claim_is_the_querysets_claim_with_its_joined_rows_in_one_query(claims_world):
    claim = ready_claim(claims_world, amount="1234.56")
    expected = Claim.objects.select_related("location", "program", "fund", "activity_type").get(pk=claim.pk)
    assert claims_world.reviewer.grants  # read once per request, with the token (not part of the claim's read)
    for _ in range(2):  # compiled on the first call, reused on the second
        with CaptureQueriesContext(connection) as queries:
            got = selectors.claim_shown_to(claims_world.reviewer, claim.pk)
            shown = (got.location.partner_id, got.program.code, got.fund.label, got.activity_type.code)
        assert len(queries) == 1, [q["sql"] for q in queries]
        assert columns(got) == columns(expected)
        assert got.amount == Decimal("1234.56")
        assert isinstance(got.amount, Decimal)
        assert got.execution_start == date(2026, 9, 1)
        assert type(got.execution_start) is date
        assert shown == ("FAB-001", claims_world.program.code, "FY27 H1", "syndicated-content")
        assert got.location.organisation_id == claims_world.partner.pk


def test_the_prepared_documents_are_the_attachments(claims_world):
    claim = ready_claim(claims_world)
    removed = ClaimDocument.objects.filter(claim=claim).order_by("id").last()
    ClaimDocument.objects.filter(pk=removed.pk).update(removed_at=claim.created_at)
    expected = list(selectors.attachments(claim))
    with CaptureQueriesContext(connection) as queries:
        got = selectors.attached_documents(claim)
        names = [a.document.original_name for a in got]
    assert len(queries) == 1
    assert [columns(a) for a in got] == [columns(a) for a in expected]
    assert names == [a.document.original_name for a in expected]
    assert removed.pk not in [a.pk for a in got]
    assert len(got) == ClaimDocument.objects.filter(claim=claim).count() - 1 >= 1


@pytest.mark.parametrize("persona", ["other_admin", "anonymous"])
def test_the_prepared_read_refuses_whom_the_scoped_query_refuses(claims_world, persona):
    claim = ready_claim(claims_world)
    user = claims_world.persona(persona) or AnonymousUser()
    with pytest.raises(NotFound):
        selectors.claim_shown_to(user, claim.pk)
    assert selectors.claim_shown_to(claims_world.partner_user, claim.pk).pk == claim.pk


@pytest.mark.parametrize("pk", [0, -1, 2**63, "12a", None])
def test_an_id_of_no_claim_is_no_such_claim(claims_world, pk):
    with pytest.raises(NotFound, match=r"^No such claim\.$"):
        selectors.claim_shown_to(claims_world.reviewer, pk)


def test_a_build_must_use_each_value_once_as_a_parameter(claims_world):
    unused = Prepared(lambda pk: Claim.objects.filter(status="draft"))
    twice = Prepared(lambda pk: Claim.objects.filter(pk=pk, reviewer_id=pk))
    for prepared in (unused, twice):
        with pytest.raises(ValueError, match=r"^Each argument of a prepared read must be one parameter of its SQL\.$"):
            prepared(1)
