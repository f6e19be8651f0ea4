"""The embedded installation's outbox: what it would have sent, for staff to read.

Each row is stored with the trial (and participant) it concerns, so that staff read only
their own trials' messages (:func:`followup.access.outbox_visible_to`), and with every
personal survey link replaced (:func:`trialsite.redaction.redact`): the outbox shows
that a link was sent, never a link that works. A patient who needs a link gets a new
one sent to them (:func:`followup.planning.send_new_link`); for the demo, the command
line prints one (``manage.py survey_link``).

Email and SMS backends take no arguments beyond the message, so the sender says what a
message concerns around the provider call (:func:`regarding`).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from trialsite.redaction import redact


@dataclass(frozen=True)
class Subject:
    trial_id: int | None = None
    participant_id: int | None = None


_current: ContextVar[Subject | None] = ContextVar("followup_outbox_subject", default=None)


@contextmanager
def regarding(trial_id: int | None, participant_id: int | None = None):
    """Messages handed to a backend inside this block concern this trial and participant."""
    reset = _current.set(Subject(trial_id, participant_id))
    try:
        yield
    finally:
        _current.reset(reset)


def store(channel: str, recipient: str, body: str, subject: str = "", html_body: str = ""):
    from .models import OutboxMessage

    about = _current.get() or Subject()
    return OutboxMessage.objects.create(
        channel=channel,
        recipient=recipient,
        subject=redact(subject),
        body=redact(body),
        html_body=redact(html_body),
        trial_id=about.trial_id,
        participant_id=about.participant_id,
    )
