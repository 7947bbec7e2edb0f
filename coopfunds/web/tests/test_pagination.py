import pytest

from coopfunds.accounts.models import User
from coopfunds.web.views.common import CappedPaginator


class Small(CappedPaginator):
    cap = 5


@pytest.mark.django_db
def test_the_count_stops_at_the_cap(world, django_assert_num_queries):
    paginator = Small(User.objects.order_by("id"), 2)
    with django_assert_num_queries(1):
        assert (paginator.count, paginator.num_pages, paginator.capped) == (6, 3, True)
    assert [u.email for u in paginator.page(3).object_list] == [u.email for u in User.objects.order_by("id")[4:6]]


@pytest.mark.django_db
def test_below_the_cap_it_is_the_real_count(world):
    paginator = CappedPaginator(User.objects.order_by("id"), 2)
    assert (paginator.count, paginator.num_pages, paginator.capped) == (7, 4, False)
