"""The weekly SMS (:class:`~followup.models.SmsMessage`) in the one send loop
(:mod:`followup.sending`): its ``send_one`` hands the text to the SMS backend; a message
that may be in the gateway's hands after a kill is looked up in the gateway's record.
After the batch: a question that could not be delivered is not waiting for a reply,
and a number the gateway refuses as opted out (Twilio's own STOP) is recorded as such.
"""

from __future__ import annotations

from .. import outbox, reach
from ..models import Message, SmsMessage, SmsPrompt
from ..sending.loop import Sender, Sent
from .backends import CannotTell, SmsError, get_backend

OUTCOME_FIELDS = [
    "status",
    "provider_id",
    "provider_status",
    "error",
    "next_attempt_at",
    "sent_at",
    "duration_ms",
    "attempts",
    "recipient",
    "in_flight_at",
]
OPTED_OUT = 21610  # Twilio: the recipient has opted out at the gateway
# Answers to the participant's own text go out whenever it came; the questions and
# their reminders keep the trial's quiet hours.
KEEPS_QUIET_HOURS = (SmsMessage.QUESTION, SmsMessage.REMINDER)


class WeeklySmsSender(Sender):
    model = SmsMessage
    outcome_fields = OUTCOME_FIELDS

    def __init__(self, opt_out, status_callback: str | None):
        self.opt_out = opt_out  # followup.sms.tracking.opt_out
        self.status_callback = status_callback
        self.backend = None
        self.refused_at_gateway = []

    def not_needed(self, message) -> bool:
        if message.kind == SmsMessage.STOP_CONFIRMATION:
            return False
        if hasattr(message.participant, "sms_opt_out"):
            return True
        # Answered, expired or cancelled since it was planned.
        return message.prompt is not None and message.prompt.status != SmsPrompt.SENT

    def held_until(self, message, now):
        trial = message.participant.trial
        if message.kind not in KEEPS_QUIET_HOURS or reach.allowed(trial, now):
            return None
        return reach.next_allowed(trial, now)

    def prepare(self, message) -> None:
        details = getattr(message.participant, "personal_details", None)
        if details is not None:
            message.recipient = details.mobile  # a corrected number counts at once

    def find_sent(self, message, marks, stats) -> Sent | None:
        """A record another message of ours already holds (two participants sharing a
        phone get the same question) is not this one's: one query, only after a
        takeover. A backend that keeps no record cannot tell: a question twice is
        cheaper than a week without an answer, so it is sent again."""
        if message.pk not in marks.uncertain:
            return None
        self.backend = self.backend or get_backend()
        try:
            found = self.backend.find_sent(message.recipient, message.body, marks.since(message))
        except CannotTell:
            stats.uncertain += 1
            return None
        except SmsError as exc:  # never permanent: the message itself may be fine
            raise SmsError(f"could not ask the gateway whether it has this SMS: {exc}") from exc
        if found is None:
            return None
        if SmsMessage.objects.filter(provider_id=found.provider_id).exclude(pk=message.pk).exists():
            return None
        return Sent(found.provider_id, found.status)

    def send_one(self, message) -> Sent:
        self.backend = self.backend or get_backend()
        with outbox.regarding(message.participant.trial_id, message.participant_id):
            result = self.backend.send(
                message.recipient, message.body, status_callback=self.status_callback
            )
        return Sent(result.provider_id, result.status)

    def failed(self, message, exc) -> None:
        if getattr(exc, "code", None) == OPTED_OUT:
            self.refused_at_gateway.append(message.participant)

    def after(self, messages, now) -> None:
        failed_prompts = [
            m.prompt_id
            for m in messages
            if m.status == Message.FAILED and m.prompt_id and m.kind == SmsMessage.QUESTION
        ]
        if failed_prompts:
            # A question that cannot be delivered is not waiting for a reply.
            SmsPrompt.objects.filter(pk__in=failed_prompts, status=SmsPrompt.SENT).update(
                status=SmsPrompt.FAILED, next_action_at=None
            )
        for participant in self.refused_at_gateway:
            # Stopped at the gateway (Twilio's own STOP handling): record it as such.
            self.opt_out(participant, now, source="provider")
