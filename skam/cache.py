"""Django's Redis cache, made an accelerator rather than a dependency: one Redis client per
connection pool, and an outage that slows pages down instead of failing them.

Django builds a new ``redis.Redis`` for every cache operation; building one fills its table of
response callbacks, which costs more than the round trip to a local Redis. A client over a
connection pool is safe to share between threads, so one per pool is kept.

Fail-soft: when Redis cannot be reached, a read is a miss and a write is skipped, logged once
per outage; for ``retry_after`` seconds (``OPTIONS``, 5 by default) the process does not try
again, so a Redis that hangs costs one connect timeout per process, not one per call. A key
that could not be written or deleted during the outage is deleted when Redis answers again:
what Redis holds under it is older than the database (a session signed out, the dashboards'
data version), and a miss makes the caller read the database or build afresh.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OUTAGE = (RedisConnectionError, RedisTimeoutError, OSError)
# Keys remembered for deletion after an outage; past this many, the oldest are forgotten
# (they expire with their own timeout).
MAX_STALE_KEYS = 10_000


def _fail_soft(fallback: object, *, stales: bool = False) -> Callable:
    """Answer ``fallback`` when Redis is down; ``stales``: the call writes the key(s) it names,
    which must be deleted once Redis is back."""

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def wrapper(self: RedisCacheClient, *args: Any) -> Any:
            keys = _keys_of(method.__name__, args) if stales else ()
            if not self._reachable():
                self._remember_stale(keys)
                return fallback(args) if callable(fallback) else fallback
            try:
                return method(self, *args)
            except OUTAGE:
                self._outage_began()
                self._remember_stale(keys)
                return fallback(args) if callable(fallback) else fallback

        return wrapper

    return decorate


def _keys_of(name: str, args: tuple) -> tuple:
    if name == "set_many":
        return tuple(args[0])
    if name == "delete_many":
        return tuple(args[0])
    return (args[0],)


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: object, retry_after: float = 5.0, **kwargs: object) -> None:
        # A Redis that does not answer (a host gone, not a port closed) must not hold a page
        # for redis-py's default of no timeout at all.
        kwargs.setdefault("socket_connect_timeout", 0.5)
        kwargs.setdefault("socket_timeout", 1.0)
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}
        self._retry_after = retry_after
        self._down_since: float | None = None
        self._stale_keys: dict[str, None] = {}  # insertion-ordered set
        self._lock = threading.Lock()

    def get_client(self, key: object = None, *, write: bool = False) -> object:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client

    def _outage_began(self) -> None:
        with self._lock:
            if self._down_since is None:
                logger.warning(
                    "The Redis cache cannot be reached: pages are served without it.",
                    exc_info=True,
                )
            self._down_since = time.monotonic()

    def _reachable(self) -> bool:
        """False while the last failure is recent; when it is not, try Redis again, first
        deleting what went stale while it was away."""
        down_since = self._down_since
        if down_since is None:
            return True
        if time.monotonic() - down_since < self._retry_after:
            return False
        with self._lock:
            stale = list(self._stale_keys)
        try:
            if stale:
                self.get_client(None, write=True).delete(*stale)
        except OUTAGE:
            self._down_since = time.monotonic()
            return False
        with self._lock:
            for key in stale:
                self._stale_keys.pop(key, None)
            self._down_since = None
        logger.warning("The Redis cache answers again (%d stale keys deleted).", len(stale))
        return True

    def _remember_stale(self, keys: tuple) -> None:
        if not keys:
            return
        with self._lock:
            for key in keys:
                self._stale_keys[key] = None
            while len(self._stale_keys) > MAX_STALE_KEYS:
                self._stale_keys.pop(next(iter(self._stale_keys)))

    add = _fail_soft(False, stales=True)(DjangoRedisCacheClient.add)
    get = _fail_soft(lambda args: args[1])(DjangoRedisCacheClient.get)
    set = _fail_soft(None, stales=True)(DjangoRedisCacheClient.set)
    touch = _fail_soft(False)(DjangoRedisCacheClient.touch)
    delete = _fail_soft(False, stales=True)(DjangoRedisCacheClient.delete)
    get_many = _fail_soft({})(DjangoRedisCacheClient.get_many)
    has_key = _fail_soft(False)(DjangoRedisCacheClient.has_key)
    set_many = _fail_soft(None, stales=True)(DjangoRedisCacheClient.set_many)
    delete_many = _fail_soft(None, stales=True)(DjangoRedisCacheClient.delete_many)
    clear = _fail_soft(False)(DjangoRedisCacheClient.clear)
    # incr is left to raise: a counter that silently stops counting would be wrong, not slow.


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, object]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
