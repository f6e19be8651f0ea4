"""The sent marks of a batch pipelined on Redis, without deferring any of them.

A sent mark must leave the dispatcher the moment the provider accepts its message: held
back to the end of the batch, a kill would double every message accepted since. But
waiting for Redis's answer to each mark was a round trip a message (a quarter to a
third of a run; ~0.9 ms a mark on the loaded development machine against ~30 µs
pipelined). So each ``SET`` is *sent* at acceptance, on one connection held for the
batch, and its reply read later: whatever replies have arrived after each send (a poll,
no wait), the rest once before the batch's outcomes are recorded. Once ``send`` returns
the command is in the kernel's socket buffer: a killed process (SIGKILL) does not stop
the kernel delivering it, so a kill leaves the same marks as before.

A reply that is an error, or a connection that breaks, is reported back with the
messages concerned (:meth:`MarkStream.send`, :meth:`MarkStream.finish`): the caller
records their outcome in the database instead, as when the cache is down.

Other cache backends (the embedded installation's files, the tests' memory) write each
mark with a plain ``set``: no round trip to save (:func:`for_cache` answers None).
"""

from __future__ import annotations

import logging
from collections import deque

logger = logging.getLogger(__name__)


def for_cache(cache) -> MarkStream | None:
    """A stream for Django's Redis cache backend, None for any other."""
    from django.core.cache.backends.redis import RedisCache

    return MarkStream(cache) if isinstance(cache, RedisCache) else None


class MarkStream:
    def __init__(self, cache):
        self.cache = cache
        self.connection = None
        self.unanswered: deque = deque()  # (message) whose reply is not read yet
        self.sent = 0

    def _connection(self):
        if self.connection is None:
            client = self.cache._cache
            self.pool = client._get_connection_pool(True)
            self.connection = self.pool.get_connection()
        return self.connection

    def send(self, message, key: str, value, timeout) -> list:
        """Send the mark of ``message``; return the messages whose mark is known to have
        failed so far (this one included when the connection broke)."""
        serializer = self.cache._cache._serializer
        args = ["SET", self.cache.make_and_validate_key(key), serializer.dumps(value)]
        seconds = self.cache.get_backend_timeout(timeout)
        if seconds is not None:
            args += ["EX", int(seconds)]
        try:
            self._connection().send_command(*args)
        except Exception:
            logger.exception("could not send the sent mark of message %s", message.pk)
            return [*self._drop(), message]
        self.unanswered.append(message)
        self.sent += 1
        return self._read(wait=False)

    def finish(self) -> list:
        """Read every reply still due; the messages whose mark failed. The connection
        goes back to its pool."""
        try:
            return self._read(wait=True)
        finally:
            self._release()

    def _read(self, wait: bool) -> list:
        failed = []
        try:
            while self.unanswered and (wait or self.connection.can_read(timeout=0)):
                message = self.unanswered.popleft()
                try:
                    self.connection.read_response()
                except self.cache._cache._lib.ResponseError:
                    logger.exception("Redis refused the sent mark of message %s", message.pk)
                    failed.append(message)
        except Exception:
            logger.exception("lost the connection of the sent marks")
            failed += self._drop()
        return failed

    def _drop(self) -> list:
        """The connection broke: every mark without its reply may be lost."""
        lost = list(self.unanswered)
        self.unanswered.clear()
        if self.connection is not None:
            self.connection.disconnect()
        self._release()
        return lost

    def _release(self) -> None:
        if self.connection is not None:
            if self.unanswered:
                self.connection.disconnect()  # replies not read: never reused half-read
                self.unanswered.clear()
            self.pool.release(self.connection)
            self.connection = None
