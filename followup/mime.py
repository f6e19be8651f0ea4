"""Emails of a batch built from one MIME message per text, not one each.

Django builds an email's MIME structure (:meth:`EmailMessage.message`) for every message
its backends send: encoding the subject, the two bodies and the headers took about
0.5 ms a message, a sixth of the dispatcher's time. The invitations of a batch share
their text but for the personal link (:func:`followup.dispatch.render_message`), so a
:class:`Prototype` is built by Django once per text, with a placeholder for the link,
and each email's MIME message is a copy with its link, recipient, date and Message-ID.

The copy is what Django would have built: the link is URL-safe ASCII replacing ASCII,
so in a body sent as 7bit or 8bit it is the same bytes either way; a body Django would
encode otherwise (quoted-printable, for a line over 998 bytes) is built by Django
(tests/followup/test_email_mime.py compares the two). An email that differs from its
prototype in anything else (another subject, sender, header, an attachment) is built
by Django too.
"""

from __future__ import annotations

import copy
from email.utils import formatdate

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT

# Headers each email has its own of; every other header is the prototype's.
OWN = ("To", "Date", "Message-ID")
HTML = "text/html"


class Prototype:
    """Django's MIME message of one email text (subject, plain and HTML bodies) from
    one sender, with ``placeholder`` where each email has its personal link."""

    def __init__(self, subject: str, text: str, html: str, from_email: str, placeholder: str):
        self.subject, self.text, self.html = subject, text, html
        self.from_email, self.placeholder = from_email, placeholder
        email = EmailMultiAlternatives(
            subject, text, from_email, ["prototype@invalid"], headers={"Message-ID": "<x@invalid>"}
        )
        email.attach_alternative(html, HTML)
        self.root = email.message()
        self.room = -1  # how many bytes longer than the placeholder a link may be
        parts = self.root.get_payload()
        if not isinstance(parts, list) or [h for h, _ in self.root._headers if h in OWN] != [*OWN]:
            return  # not the structure copied below: Django builds each email
        rooms = []
        for part in parts:
            if part.get("Content-Transfer-Encoding") not in ("7bit", "8bit"):
                return
            for line in part.get_payload().splitlines():
                if placeholder in line:
                    size = len(line.encode(errors="surrogateescape"))
                    rooms.append(
                        (RFC5322_EMAIL_LINE_LENGTH_LIMIT - size) // line.count(placeholder)
                    )
        self.room = min(rooms, default=RFC5322_EMAIL_LINE_LENGTH_LIMIT)

    def fits(self, email: EmailMultiAlternatives, link: str) -> bool:
        """Is ``email`` this text with ``link`` in it, and nothing else of its own?"""
        return (
            self.room >= len(link) - len(self.placeholder)
            and email.subject == self.subject
            and email.from_email == self.from_email
            and email.body == self.text.replace(self.placeholder, link)
            and list(email.alternatives) == [(self.html.replace(self.placeholder, link), HTML)]
            and list(email.extra_headers) == ["Message-ID"]
            and not (email.cc or email.reply_to or email.attachments)
            and (email.encoding or settings.DEFAULT_CHARSET) == self.root.encoding
        )

    def copy_for(self, email: EmailMultiAlternatives, link: str):
        """The MIME message of ``email``: the prototype's, with its own link and headers."""
        own = {
            "To": ", ".join(str(v) for v in email.to),
            # As Django dates a message without a Date header.
            "Date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
            "Message-ID": email.extra_headers["Message-ID"],
        }
        msg = _shallow(self.root)
        msg._headers, msg.defects = [], []
        for name, value in self.root._headers:
            if name in own:
                msg[name] = own[name]  # Django's own checks and encoding of the value
            else:
                msg._headers.append((name, value))
        parts = []
        for part in self.root.get_payload():
            mine = _shallow(part)
            mine._headers, mine.defects = list(part._headers), []
            mine._payload = part._payload.replace(self.placeholder, link)
            parts.append(mine)
        msg._payload = parts
        return msg


def _shallow(msg):
    """``copy.copy`` of an email.message.Message (its state is its ``__dict__``), at a
    third of the cost."""
    clone = object.__new__(type(msg))
    clone.__dict__ = msg.__dict__.copy()
    return clone


class PrototypedEmail(EmailMultiAlternatives):
    """An email whose MIME message is copied from its :class:`Prototype` when it fits
    (else built by Django); to everything else, an ordinary Django email."""

    def __init__(self, *args, prototype: Prototype | None = None, link: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.prototype, self.link = prototype, link

    def message(self):
        if self.prototype is not None and self.prototype.fits(self, self.link):
            return self.prototype.copy_for(self, self.link)
        return super().message()

    def __deepcopy__(self, memo):
        # Django's test backend (locmem) keeps a deep copy of every email: the prototype
        # (never changed) and the connection (a backend, not the email) are shared.
        memo[id(self.prototype)] = self.prototype
        memo[id(self.connection)] = self.connection
        clone = self.__class__.__new__(self.__class__)
        memo[id(self)] = clone
        clone.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return clone
