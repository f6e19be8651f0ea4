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
from django.core.mail import EmailMultiAlternatives, get_connection

from . import outbox


class TransportError(Exception):
    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


class EmailChannel:
    """Django's email backends (SMTP in production, the outbox when embedded). One
    connection serves a whole batch; it is reopened after an error."""

    def __init__(self):
        self.connection = get_connection(fail_silently=False)

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
        email = EmailMultiAlternatives(
            subject=rendered.subject,
            body=rendered.text,
            to=[message.recipient],
            headers={"Message-ID": self.message_id(message)},
            connection=self.connection,
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
