"""Personal survey links.

The token is HMAC-SHA256(SECRET_KEY, contact id + a random nonce stored on the contact):
recomputable for every reminder, so all messages of a contact carry the same link, yet
the database alone cannot produce it (it holds the nonce and the token's SHA-256 only).
Rotating SECRET_KEY invalidates the links already sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings
from django.urls import reverse


def make_token(contact_id: int, nonce: str) -> str:
    mac = hmac.new(
        settings.SECRET_KEY.encode(),
        f"followup-link:{contact_id}:{nonce}".encode(),
        hashlib.sha256,
    ).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_for(contact) -> str:
    return make_token(contact.pk, contact.token_nonce)


def link_for(contact, cache: dict | None = None) -> str:
    """The absolute URL a patient opens (FOLLOWUP_BASE_URL + /s/<token>/). ``cache``
    (a dict kept for a batch) saves resolving the URL once per message."""
    base = settings.FOLLOWUP_BASE_URL.rstrip("/")
    if cache is None:
        return base + reverse("survey_start", args=[token_for(contact)])
    if "link" not in cache:
        marker = "T" * 43  # a token's length and alphabet: reverse() quotes nothing in it
        cache["link"] = (base + reverse("survey_start", args=[marker])).split(marker)
    return token_for(contact).join(cache["link"])
