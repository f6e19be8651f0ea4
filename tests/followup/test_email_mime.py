"""An email's MIME message copied from its text's prototype (followup.mime) is the one
Django builds, byte for byte but for the date and the multipart boundary; the
dispatcher has Django build it once per text of a batch, not once per email."""

from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import EmailMessage

from followup import dispatch as dispatcher
from followup.channels import LINK_PLACEHOLDER
from followup.mime import Prototype, PrototypedEmail
from tests.conftest import use_betterback_built_once

from ..factories import enrol

betterback = use_betterback_built_once()  # loaded once for the module

LINK = "https://trial.example.org/s/Zm9sbG93dXAtbGluazoxOjEyMzQ1Njc4OTBhYmNkZWY_-x/"
SV_SUBJECT = "Din uppföljningsenkät för ryggsmärtestudien"
SV_TEXT = f"Hej,\n\nÖppna din personliga länk för att svara:\n{LINK_PLACEHOLDER}\n\nMvh\n"
SV_HTML = f'<p>Hej,</p><p><a href="{LINK_PLACEHOLDER}">{LINK_PLACEHOLDER}</a></p>'


def django_built(email: EmailMultiAlternatives) -> bytes:
    """What Django's own build of ``email`` gives, as the prototype's copy is compared."""
    plain = EmailMultiAlternatives(
        email.subject, email.body, email.from_email, email.to, headers=email.extra_headers
    )
    for content, mimetype in email.alternatives:
        plain.attach_alternative(content, mimetype)
    return comparable(EmailMultiAlternatives.message(plain))


def comparable(msg) -> bytes:
    msg.set_boundary("BOUNDARY")
    msg.replace_header("Date", "the date")
    return msg.as_bytes(linesep="\r\n")


def email_of(subject, text, html, link=LINK, to="patient@example.org", prototype=None):
    email = PrototypedEmail(
        subject=subject,
        body=text.replace(LINK_PLACEHOLDER, link),
        to=[to],
        headers={"Message-ID": "<followup.12.invitation.0.abc@example.org>"},
        prototype=prototype or Prototype(subject, text, html, email_from(), LINK_PLACEHOLDER),
        link=link,
    )
    email.attach_alternative(html.replace(LINK_PLACEHOLDER, link), "text/html")
    return email


def email_from() -> str:
    from django.conf import settings

    return settings.DEFAULT_FROM_EMAIL


@pytest.mark.parametrize(
    "subject, text, html",
    [
        (SV_SUBJECT, SV_TEXT, SV_HTML),  # 8bit bodies, an encoded subject
        ("Your questionnaire", SV_TEXT.encode("ascii", "replace").decode(), "<p>x</p>"),  # 7bit
    ],
)
def test_the_copy_is_what_django_builds(subject, text, html):
    email = email_of(subject, text, html)
    assert email.prototype.fits(email, LINK)  # the copy, not a fallback, is compared
    copied = comparable(email.message())
    assert LINK.encode() in copied and LINK_PLACEHOLDER.encode() not in copied
    assert copied == django_built(email)


def test_each_copy_has_its_own_link_recipient_and_message_id():
    prototype = Prototype(SV_SUBJECT, SV_TEXT, SV_HTML, email_from(), LINK_PLACEHOLDER)
    one = email_of(SV_SUBJECT, SV_TEXT, SV_HTML, prototype=prototype)
    other = email_of(
        SV_SUBJECT, SV_TEXT, SV_HTML, link=LINK.replace("Zm9", "QQQ"), to="other@example.org",
        prototype=prototype,
    )  # fmt: skip
    other.extra_headers["Message-ID"] = "<followup.13.invitation.0.abc@example.org>"
    assert comparable(one.message()) == django_built(one)
    assert comparable(other.message()) == django_built(other)
    assert comparable(one.message()) == django_built(one)  # the prototype is left as it was


def test_a_line_the_link_makes_too_long_and_a_changed_email_are_built_by_django():
    long_line = SV_TEXT.replace(LINK_PLACEHOLDER, "x" * 950 + LINK_PLACEHOLDER)
    email = email_of(SV_SUBJECT, long_line, SV_HTML, link=LINK * 2)
    assert not email.prototype.fits(email, email.link)  # Django's quoted-printable body
    assert comparable(email.message()) == django_built(email)
    changed = email_of(SV_SUBJECT, SV_TEXT, SV_HTML)
    changed.subject = "Another subject"
    changed.extra_headers["Reply-To"] = "office@example.org"
    assert comparable(changed.message()) == django_built(changed)


@pytest.mark.django_db
def test_the_dispatcher_has_django_build_one_message_per_text(clinic_west, monkeypatch):
    for language in ("sv", "sv", "en", "en", "da"):
        enrol(clinic_west, enrolled_on=date(2017, 5, 2), preferred_language=language)
    built = []
    real = EmailMessage.message

    def counted(self):
        built.append(self)
        return real(self)

    monkeypatch.setattr(EmailMessage, "message", counted)
    stats = dispatcher.dispatch_due(datetime(2017, 8, 2, 7, tzinfo=UTC), 50)
    assert stats.sent == 5 and len(mail.outbox) == 5
    assert len(built) == 3  # sv, en, da: one each
    monkeypatch.setattr(EmailMessage, "message", real)
    for email in mail.outbox:
        assert email.prototype.fits(email, email.link)
        assert comparable(email.message()) == django_built(email)
