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
def _default_language():
    """A request to /es/ leaves Spanish active in the thread (LocaleMiddleware activates, nothing
    deactivates): each test starts, and ends, in the default language (issue 19)."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters and cached responses live in the caches; each test starts without them."""
    from django.core.cache import caches

    for alias in ("default", "throttle"):
        caches[alias].clear()
    yield
    for alias in ("default", "throttle"):
        caches[alias].clear()


@pytest.fixture
def live_server(live_server, settings):
    """pytest-django's server, with its host:port allowed (a Host header's port must be listed)."""
    address = live_server.url.split("://", 1)[1]
    settings.ALLOWED_HOST_PORTS = [*settings.ALLOWED_HOST_PORTS, address]
    return live_server
