"""Calls per token (API_THROTTLE_RATE), counted in the shared cache so that every web
worker counts the same calls (Redis in production, as for the SMS webhooks)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def __init__(self):
        self.cache = caches["followup"]
        super().__init__()

    def get_rate(self) -> str:
        # Read per call, not at import (DRF's THROTTLE_RATES is bound at class definition).
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        if token is None:
            return None
        # The hash, not the primary key: keys of a dropped test database never collide.
        return f"api-throttle-{token.token_hash[:32]}"
