"""Channels: one small class per provider, one interface, one error type.

``send(message, rendered)`` hands one message to the provider and returns the
provider's id for it, or raises :class:`TransportError` (``permanent`` when trying
again cannot help, e.g. an address the server refuses).
"""

from __future__ import annotations

import hashlib
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection

from . import outbox
from .mime import Prototype, PrototypedEmail


class TransportError(Exception):
    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


# Stands for the personal link in a text rendered once for many messages.
LINK_PLACEHOLDER = "https://link.invalid/personal-link/"


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    # The text shared with other messages (LINK_PLACEHOLDER for the link), and the link:
    # an email's MIME structure is built once for all of them (followup.mime).
    shared: Rendered | None = None
    link: str = ""


class EmailChannel:
    """Django's email backends (SMTP in production, the outbox when embedded). One
    connection serves a whole batch; it is reopened after an error."""

    def __init__(self):
        self.connection = get_connection(fail_silently=False)
        self.prototypes: dict = {}

    def message_id(self, message) -> str:
        # The idempotency key as Message-ID: a resend after a crash carries the same id,
        # so a receiving server or mail client that deduplicates on it shows one email.
        # The installation's tag keeps ids from two installations (same contact ids) apart.
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        site = hashlib.sha256(f"message-id:{settings.SECRET_KEY}".encode()).hexdigest()[:10]
        return f"<followup.{message.idempotency_key.replace(':', '.')}.{site}@{domain}>"

    def send(self, message, rendered: Rendered) -> str:
        if not message.recipient:
            raise TransportError("no email address on file", permanent=True)
        email = PrototypedEmail(
            subject=rendered.subject,
            body=rendered.text,
            to=[message.recipient],
            headers={"Message-ID": self.message_id(message)},
            connection=self.connection,
            prototype=self.prototype(rendered),
            link=rendered.link,
        )
        if rendered.html:
            email.attach_alternative(rendered.html, "text/html")
        try:
            self.connection.open()  # no-op when open: one connection for the batch
            contact = message.contact
            with outbox.regarding(contact.timepoint.trial_id, contact.participant_id):
                accepted = self.connection.send_messages([email])
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            raise TransportError(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._reset()
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        if not accepted:
            raise TransportError("the email backend accepted nothing")
        return email.extra_headers["Message-ID"]

    def prototype(self, rendered: Rendered) -> Prototype | None:
        """The MIME prototype of the rendered text (one per text and batch)."""
        shared = rendered.shared
        if shared is None or not shared.html:
            return None
        key = (shared.subject, shared.text, shared.html)
        if key not in self.prototypes:
            self.prototypes[key] = Prototype(
                *key, settings.DEFAULT_FROM_EMAIL, placeholder=LINK_PLACEHOLDER
            )
        return self.prototypes[key]

    def _reset(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001 - a broken connection may fail to close too
            pass
        self.connection = get_connection(fail_silently=False)

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001
            pass


def channel_for(name: str):
    if name == "email":
        return EmailChannel()
    raise TransportError(f"no channel {name!r}", permanent=True)
