"""Reaching a participant: which channel an invitation or reminder goes by, what to do
when one fails for good, and when a message may go out at all (quiet hours).

Plain functions of (participant, trial settings, time). The trial's settings come from
its protocol file's ``[contact]`` section (:mod:`enrolment.contact_spec`), stored on
``Trial.contact``; an empty dict means the defaults below.

Channels: the participant's own choice first (``PersonalDetails.contact_preference``:
email, sms, both or post; "both" sends by email and SMS), then the trial's fallback
order. A channel is *usable* when the address it needs is on file (email address,
mobile number without an SMS opt-out, postal address); an unusable one is passed over
when the message is planned, and a channel that fails for good when sending (a bounced
address, an unreachable number, STOP at the gateway) hands the contact to the next one
(:func:`next_channel`). The contact keeps the channel it moved to and why
(``Contact.channel``, ``Contact.channel_note``): the coordinator sees it on the
participant page and the overdue list. A participant usable by no channel is listed on
the overdue list from the day of enrolment (:func:`unreachable_reason`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .models import Contact

EMAIL, SMS, POST = "email", "sms", "post"
DEFAULT_FALLBACK = [EMAIL, SMS, POST]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DEFAULTS = {
    "fallback": DEFAULT_FALLBACK,
    "hours": ["08:00", "21:00"],
    "days": DAYS,
    "late_after_minutes": 60,
    "late_rule": "wait",
}

MISSING = {
    EMAIL: _("no email address on file"),
    SMS: _("no mobile number on file"),
    POST: _("no postal address on file"),
}


def settings_of(trial) -> dict:
    return {**DEFAULTS, **(trial.contact or {})}


# --- channels ------------------------------------------------------------------------------


def _details(participant):
    return getattr(participant, "personal_details", None)


def preferred(participant) -> list[str]:
    """The participant's own choice, as channels."""
    details = _details(participant)
    choice = getattr(details, "contact_preference", EMAIL) or EMAIL
    return [EMAIL, SMS] if choice == "both" else [choice]


def order_of(participant) -> list[str]:
    """Every channel the participant may be reached by, in the order they are tried."""
    channels = preferred(participant)
    for channel in settings_of(participant.trial)["fallback"]:
        if channel not in channels:
            channels.append(channel)
    return channels


def opted_out_of_sms(participant) -> bool:
    return hasattr(participant, "sms_opt_out")


def why_unusable(participant, channel: str) -> str:
    """Empty when ``channel`` can carry a message to the participant; otherwise why not.
    Always in English: it is stored in ``Contact.channel_note`` and translated for the
    reader by :func:`describe`."""
    why = _why_unusable(participant, channel)
    if not why:
        return ""  # the usual answer, without switching languages (once per message)
    with translation.override("en"):
        return str(why)


def _why_unusable(participant, channel: str):
    details = _details(participant)
    if details is None or details.is_erased:
        return _("personal details erased")
    if channel == EMAIL and not details.email:
        return MISSING[EMAIL]
    if channel == SMS:
        if not details.mobile:
            return MISSING[SMS]
        if opted_out_of_sms(participant):
            return _("opted out of SMS")
    if channel == POST and not details.postal_address.strip():
        return MISSING[POST]
    return ""


def address_of(participant, channel: str) -> str:
    details = _details(participant)
    if details is None:
        return ""
    if channel == SMS:
        return details.mobile
    if channel == POST:
        return details.postal_address[:300]
    return details.email


def channels_for(participant, contact=None) -> tuple[list[str], str]:
    """The channels the next message of ``contact`` goes by, and a note for the
    coordinator when that is not the participant's own choice (empty otherwise).

    "Both" gives two channels while both are usable; after a channel failed for good
    (``contact.channel`` is set) the contact stays on the channel it moved to."""
    order = order_of(participant)
    start = contact.channel if contact is not None and contact.channel in order else ""
    first = preferred(participant)
    if start:
        order = order[order.index(start) :]
        first = [start]
    usable = [c for c in first if not why_unusable(participant, c)]
    if usable:
        return usable, contact.channel_note if start and contact is not None else ""
    skipped = [f"{c}: {why_unusable(participant, c)}" for c in first]
    for channel in order:
        if channel not in first and not why_unusable(participant, channel):
            return [channel], f"by {channel} ({'; '.join(skipped)})"
        if channel not in first:
            skipped.append(f"{channel}: {why_unusable(participant, channel)}")
    return [], "unreachable: " + "; ".join(skipped)


def next_channel(participant, failed: str) -> str:
    """The channel after ``failed`` in the participant's order that is usable, or ""."""
    order = order_of(participant)
    later = order[order.index(failed) + 1 :] if failed in order else order
    return next((c for c in later if not why_unusable(participant, c)), "")


def unreachable_reason(participant) -> str:
    """Why no channel can reach the participant ("" when one can)."""
    channels, note = channels_for(participant)
    return "" if channels else note


# --- the note, in the reader's language -----------------------------------------------------

CHANNEL_NAMES = {
    EMAIL: pgettext_lazy("channel", "email"),
    SMS: pgettext_lazy("channel", "SMS"),
    POST: pgettext_lazy("channel", "post"),
}
REASONS = {
    "no email address on file": MISSING[EMAIL],
    "no mobile number on file": MISSING[SMS],
    "no postal address on file": MISSING[POST],
    "opted out of SMS": _("opted out of SMS"),
    "personal details erased": _("personal details erased"),
    "recipient refused": _("recipient refused"),
    "gateway: undelivered": _("gateway: undelivered"),
    "gateway: failed": _("gateway: failed"),
}
_CH = "(email|sms|post)"
_NOTE = re.compile(
    rf"^unreachable:|reached by {_CH}\b|\bby {_CH} \(|\b{_CH} failed:|\b{_CH}:|"
    + "|".join(re.escape(r) for r in REASONS)
)


_ADDRESS = re.compile(r"\S+@\S+|\+?\d[\d ()-]{6,}\d")


def short_error(error: str) -> str:
    """A provider's error as a contact's note may keep it: without the address it may
    quote (an SMTP server's "recipient refused: {'a@b.se': ...}"), since the note is kept
    in the contact's history, which an erasure does not scrub."""
    error = error.split(": {")[0].split(": [")[0]
    return _ADDRESS.sub("…", error)[:120]


def describe(note: str) -> str:
    """A stored channel note (English, as :func:`channels_for` and the fallback write it)
    in the active language: the phrases the site writes are translated, a provider's own
    error text (an SMTP reply, a gateway code) is left as it came."""

    def one(match: re.Match) -> str:
        text = match.group(0)
        channel = next((g for g in match.groups() if g), "")
        name = str(CHANNEL_NAMES.get(channel, channel))
        if text == "unreachable:":
            return gettext("unreachable:")
        if text.startswith("reached by"):
            return gettext("reached by %(channel)s") % {"channel": name}
        if text.startswith("by "):
            return gettext("by %(channel)s") % {"channel": name} + " ("
        if text.endswith("failed:"):
            return gettext("%(channel)s failed:") % {"channel": name}
        if channel:
            return f"{name}:"
        return str(REASONS[text])

    return _NOTE.sub(one, note)


# --- quiet hours ---------------------------------------------------------------------------


def _hours(trial) -> tuple[time, time]:
    start, end = settings_of(trial)["hours"]
    return time.fromisoformat(start), time.max if end == "24:00" else time.fromisoformat(end)


def allowed(trial, at: datetime) -> bool:
    """May an invitation, reminder or SMS question go out at ``at`` (the trial's clock)?"""
    conf = settings_of(trial)
    local = at.astimezone(ZoneInfo(trial.time_zone))
    start, end = _hours(trial)
    return DAYS[local.weekday()] in conf["days"] and start <= local.time() < end


def next_allowed(trial, at: datetime) -> datetime:
    """The first moment from ``at`` on when messages may go out (UTC)."""
    if allowed(trial, at):
        return at
    conf = settings_of(trial)
    zone = ZoneInfo(trial.time_zone)
    start, _end = _hours(trial)
    local = at.astimezone(zone)
    for days in range(8):
        day = local.date() + timedelta(days=days)
        opening = datetime.combine(day, start, tzinfo=zone)
        if DAYS[day.weekday()] in conf["days"] and opening.astimezone(UTC) > at:
            return opening.astimezone(UTC)
    return at  # no allowed day at all cannot pass the protocol check; never hold forever


def too_late(trial, planned: datetime, at: datetime) -> bool:
    """Has a weekly SMS question planned for ``planned`` passed by more than the trial's
    tolerance at ``at``?"""
    return at - planned > timedelta(minutes=settings_of(trial)["late_after_minutes"])


def late_rule(trial) -> str:
    return settings_of(trial)["late_rule"]


# --- what the coordinator sees -------------------------------------------------------------


def refresh_reachability(participant) -> int:
    """Mark the participant's open contacts unreachable (with why) or clear the mark,
    from the personal details as they are now: at enrolment and after every change,
    so the overdue list shows it the same day, not when the first questionnaire is due."""
    why = unreachable_reason(participant)
    open_contacts = Contact.objects.filter(participant=participant, status__in=Contact.OPEN)
    if why:
        return open_contacts.update(channel_note=why[:200])
    return open_contacts.filter(channel_note__startswith="unreachable").update(channel_note="")
