"""Email backend of the embedded installation: every message goes to the outbox table."""

from django.core.mail.backends.base import BaseEmailBackend


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        from .models import OutboxMessage

        sent = 0
        for message in email_messages:
            html = ""
            for content, mimetype in getattr(message, "alternatives", []):
                if mimetype == "text/html":
                    html = content
            OutboxMessage.objects.create(
                channel=OutboxMessage.EMAIL,
                recipient=", ".join(message.recipients()),
                subject=message.subject,
                body=message.body,
                html_body=html,
            )
            sent += 1
        return sent
