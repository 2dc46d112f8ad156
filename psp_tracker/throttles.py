"""DRF's throttles, counting in the `throttle` cache (a Redis that cached pages cannot evict; see
ratelimit.py) instead of the default cache that holds the cached responses."""

from django.core.cache import caches
from rest_framework import throttling


class AnonRateThrottle(throttling.AnonRateThrottle):
    cache = caches["throttle"]


class UserRateThrottle(throttling.UserRateThrottle):
    cache = caches["throttle"]
