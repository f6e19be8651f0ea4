"""Follow-up data: the contact schedule and the log of every message sent for it.

A :class:`Contact` is one questionnaire a respondent is due at one timepoint; its
``next_action_at`` is when the dispatcher must next look at it (send the invitation,
send a reminder, or mark it missed), so the due work is one indexed range scan.
A :class:`Message` is written before the provider is called and updated after
(see :mod:`followup.dispatch` for the delivery guarantee).

The package: :mod:`.contacts`, :mod:`.messages` (email and the outbox) and :mod:`.sms`.
Every model is re-exported here: Django finds them through this module, and
``from followup.models import Contact`` keeps working.
"""

from .contacts import Contact, new_nonce
from .messages import Message, OutboxMessage, Outgoing
from .sms import InboundSms, SmsMessage, SmsOptOut, SmsPrompt, SmsStatusCallback

__all__ = [
    "Contact",
    "InboundSms",
    "Message",
    "OutboxMessage",
    "Outgoing",
    "SmsMessage",
    "SmsOptOut",
    "SmsPrompt",
    "SmsStatusCallback",
    "new_nonce",
]
