"""Redis as an accelerator, never a dependency: a cache backend that cannot take the site down.

Django's RedisCache raises whatever the client raises: with Redis stopped every cached view answered
500, and with Redis paused every request hung until the kernel gave up. This backend

- talks to Redis with short connect and read timeouts (OPTIONS `socket_connect_timeout`,
  `socket_timeout`, set from REDIS_CONNECT_TIMEOUT / REDIS_TIMEOUT) and no client-side retries;
- catches every Redis error, logs it once per interval (not once per request), and opens a circuit:
  for RETRY_SECONDS every call goes straight to a small per-process memory cache instead of waiting
  on Redis again; then one caller probes Redis, and the circuit closes when it answers;
- keeps the same semantics in the fallback (LocMemCache), so callers need no special case: a cached
  response may be missed or served from this process's memory, a throttle counter is counted per
  process (the log says so).

Serving from the fallback is safe because nothing correctness-bearing lives in Redis: the data
version that keys cached responses is a row in the database (jurisdictions/db/watch.py).
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger("psp_tracker.cache")

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is a runtime requirement
    RedisError = OSError

# What a broken, refused, paused or full Redis raises (OSError covers socket errors raised early).
REDIS_ERRORS = (RedisError, OSError)
DEFAULT_RETRY_SECONDS = 5.0


class Circuit:
    """The state shared by every thread of a process for one Redis cache (Django makes one backend
    object per thread): when Redis fails, all of them stop asking it, and it is logged once."""

    def __init__(self, retry_seconds):
        self.retry_seconds = retry_seconds
        self.lock = threading.Lock()
        self.open_until = 0.0  # 0: closed (use Redis); else the monotonic time of the next probe
        self.logged_at = -1e9


_circuits = {}
_circuits_lock = threading.Lock()


def circuit_for(key, retry_seconds):
    with _circuits_lock:
        if key not in _circuits:
            _circuits[key] = Circuit(retry_seconds)
        return _circuits[key]


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS", {}))
        retry_seconds = float(options.pop("RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
        fallback_entries = int(options.pop("FALLBACK_MAX_ENTRIES", 2000))
        params["OPTIONS"] = options
        super().__init__(server, params)
        location = server if isinstance(server, str) else ",".join(server)
        identity = f"{location}|{self.key_prefix}"
        self.circuit = circuit_for(identity, retry_seconds)
        # LocMemCache objects of one name share their storage: one fallback per process, not per thread.
        self.fallback = LocMemCache(
            f"psp-fallback|{identity}",
            {
                "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                "VERSION": params.get("VERSION", 1),
                "TIMEOUT": params.get("TIMEOUT", 300),
                "OPTIONS": {"MAX_ENTRIES": fallback_entries},
            },
        )

    # -- the circuit ------------------------------------------------------------------------------

    @property
    def retry_seconds(self):
        return self.circuit.retry_seconds

    @property
    def degraded(self):
        """True while the circuit is open (Redis failed recently and is not used)."""
        return self.circuit.open_until != 0.0

    def _use_redis(self):
        circuit = self.circuit
        if circuit.open_until == 0.0:
            return True
        now = time.monotonic()
        with circuit.lock:
            if now < circuit.open_until:
                return False
            # This caller probes Redis; the others keep to memory until it has answered.
            circuit.open_until = now + circuit.retry_seconds
            return True

    def _trip(self, operation, exc):
        circuit = self.circuit
        now = time.monotonic()
        with circuit.lock:
            circuit.open_until = now + circuit.retry_seconds
            should_log = now - circuit.logged_at >= circuit.retry_seconds
            if should_log:
                circuit.logged_at = now
        if should_log:
            logger.warning(
                "redis unavailable for the %r cache (%s during %s): serving without it, counting "
                "throttles per process; retrying in %.0f s",
                self.key_prefix,
                type(exc).__name__,
                operation,
                circuit.retry_seconds,
            )

    def _recovered(self):
        circuit = self.circuit
        with circuit.lock:
            was_open, circuit.open_until = circuit.open_until != 0.0, 0.0
        if was_open:
            logger.warning("redis answers again for the %r cache: shared again", self.key_prefix)

    def _call(self, operation, *args, **kwargs):
        if self._use_redis():
            try:
                result = getattr(super(), operation)(*args, **kwargs)
            except REDIS_ERRORS as exc:
                self._trip(operation, exc)
            else:
                if self.circuit.open_until != 0.0:
                    self._recovered()
                return result
        return getattr(self.fallback, operation)(*args, **kwargs)

    def ping(self):
        """True when Redis answers now (for /readyz); never raises, never waits past the timeouts,
        and while the circuit is open (until the next probe) answers False without asking."""
        if not self._use_redis():
            return False
        try:
            self._cache.get_client(write=False).ping()
        except REDIS_ERRORS as exc:
            self._trip("ping", exc)
            return False
        if self.circuit.open_until != 0.0:
            self._recovered()
        return True

    # -- the cache API, each call guarded ---------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        self.fallback.clear()
        return self._call("clear")
