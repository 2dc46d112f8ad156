"""DRF's throttles, counting in the `throttle` cache (a Redis that cached pages cannot evict; see
ratelimit.py) instead of the default cache that holds the cached responses."""

from django.core.cache import caches
from rest_framework import throttling


class ThrottleCacheMixin:
    @property
    def cache(self):
        # Looked up per use (not at import) so that it follows the settings, as every cache alias does.
        return caches["throttle"]


class AnonRateThrottle(ThrottleCacheMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ThrottleCacheMixin, throttling.UserRateThrottle):
    pass
