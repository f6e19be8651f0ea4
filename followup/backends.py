"""Email backend of the embedded installation: every message goes to the outbox table
(:mod:`followup.outbox`: survey links hidden, filed under the trial it concerns)."""

from django.core.mail.backends.base import BaseEmailBackend

from . import outbox


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        from .models import OutboxMessage

        sent = 0
        for message in email_messages:
            html = ""
            for content, mimetype in getattr(message, "alternatives", []):
                if mimetype == "text/html":
                    html = content
            outbox.store(
                OutboxMessage.EMAIL,
                ", ".join(message.recipients()),
                message.body,
                subject=message.subject,
                html_body=html,
            )
            sent += 1
        return sent
