"""Follow-up emails end to end, with the processes production runs: a Celery worker and
beat started as subprocesses, the site served by gunicorn, and a real SMTP server
(aiosmtpd) in this test process. Once on the embedded default (SQLite, the filesystem
broker, sent marks in files under VAR_DIR) and once on PostgreSQL + Redis.

The clock is never faked; the data moves instead. Participants are enrolled three
months ago (with FOLLOWUP_SEND_TIME 00:00, so their 3-month invitation is due
whatever the hour), reminders come seconds apart (FOLLOWUP_REMINDER_DAYS in fractions
of a day) and a window's end is moved a few seconds ahead in the database.

Every email is counted at the SMTP server by its Message-ID (the idempotency key), so
"exactly once" is what arrived, not what the database believes.
"""

from __future__ import annotations

import time

import pytest

from .followup_site import (
    CLOSE_WINDOW,
    REMINDER_DAYS,
    answer_every_questionnaire,
    followup_installations,
    link_in,
    smtp_server,
)
from .stack import free_port, start_site, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.heavy]

# A database and a Redis database of their own, flushed before and after: other tests,
# other installations on the same server (database 0) and the kill tests
# (test_followup_worker_kills.py) are left alone.
mailbox = smtp_server()
embedded, postgres_redis, site = followup_installations("trialsite_e2e_followup", redis_db=11)


def test_invitation_link_completion_and_three_reminders_then_missed(site, mailbox):
    """A answers through the link in the email and hears nothing more; B does not answer:
    exactly one invitation and three reminders, and when the window closes the contact is
    missed. Real worker and beat, real SMTP, real web server."""
    a, b = f"main-{site.name}-a@example.org", f"main-{site.name}-b@example.org"
    contacts = site.enrol([a, b])
    web_port = free_port()
    site.start_worker(
        mailbox.port,
        FOLLOWUP_REMINDER_DAYS=REMINDER_DAYS,
        FOLLOWUP_BASE_URL=f"http://127.0.0.1:{web_port}",
    )
    start_site(site, web_port)
    wait_for(lambda: mailbox.to(a) and mailbox.to(b), 60, "both invitations", logs=site.logs)

    # A opens the link from the email they received and answers everything, well
    # before the first reminder (15.6 s after the invitation).
    (invitation,) = mailbox.to(a)
    last = answer_every_questionnaire(link_in(invitation.text), site.instruments("3m"))
    assert last.endswith("/done/")
    assert site.contact_status(contacts[a]) == "completed"
    # B's window now ends a little after the third reminder is due (15.6 + 1.7 + 1.7 s).
    site.django(CLOSE_WINDOW, {"contact": contacts[b], "seconds": 22})

    wait_for(
        lambda: site.contact_status(contacts[b]) == "missed",
        60,
        "B's contact to be missed",
        interval=0.5,
        logs=site.logs,
    )
    time.sleep(1.5)  # a beat or two more: nothing else may arrive
    site.stop_all()

    assert [m.subject for m in mailbox.to(a)] == [invitation.subject]
    to_b = mailbox.to(b)
    assert len(to_b) == 4, [m.subject for m in to_b]
    assert not to_b[0].subject.startswith("Reminder")
    assert all(m.subject.startswith("Reminder:") for m in to_b[1:])
    assert {link_in(m.text) for m in to_b} == {link_in(to_b[0].text)}  # one link for all
    assert link_in(to_b[0].text) != link_in(invitation.text)
    mailbox.assert_each_message_once()
    rows = site.messages([a, b])
    assert sorted((r["email"], r["kind"], r["status"]) for r in rows) == [
        (a, "invitation", "sent"),
        (b, "invitation", "sent"),
        (b, "reminder", "sent"),
        (b, "reminder", "sent"),
        (b, "reminder", "sent"),
    ]  # none pending, sending, failed or skipped
    assert {r["provider_id"] for r in rows} == {m.message_id for m in mailbox.arrived}
    assert site.contact_status(contacts[a]) == "completed"
