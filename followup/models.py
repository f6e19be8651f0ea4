from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A message the embedded installation 'sent': kept here instead of leaving the
    machine, so that staff can read what patients would have received."""

    EMAIL = "email"
    SMS = "sms"
    channel = models.CharField(max_length=10, choices=[(EMAIL, _("Email")), (SMS, _("SMS"))])
    recipient = models.CharField(max_length=300)  # personal data: shown only to allowed roles
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} {self.created:%Y-%m-%d %H:%M}: {self.subject or self.body[:40]}"
