import pytest

from tests.factories import psp as _psp


@pytest.fixture
def psp(db):
    return _psp()


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="editor", password="a-long-test-password", is_staff=True
    )


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters and cached responses live in the cache; each test starts without them."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
