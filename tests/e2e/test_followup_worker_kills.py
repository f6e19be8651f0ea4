"""Follow-up emails end to end when processes die: a worker killed (SIGKILL) mid-batch,
Redis flushed between two beats, the shared cache down while the worker is killed with
an email in the SMTP server's hands. The same installations as
tests/e2e/test_followup_worker.py (tests/e2e/followup_site.py), in a module of their own
so that a parallel run puts the two on different workers.

Every email is counted at the SMTP server by its Message-ID (the idempotency key), so
"exactly once" is what arrived, not what the database believes.
"""

from __future__ import annotations

import signal
import time
from collections import Counter

import pytest

from .followup_site import followup_installations, smtp_server
from .stack import free_port, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.heavy]

# Its own database and Redis database (test_followup_worker.py has 11, the SMS tests 12
# and 13), flushed before and after.
mailbox = smtp_server()
embedded, postgres_redis, site = followup_installations("trialsite_e2e_followup_kills", redis_db=14)


def test_worker_killed_mid_batch_and_restarted_sends_every_invitation_once(site, mailbox):
    """SIGKILL (a real kill of the worker's process group) while a batch is half sent:
    the messages the SMTP server had accepted are still 'sending' in the database, and
    only their sent marks tell the restarted worker not to send them again. On
    PostgreSQL two pool processes dispatch at once (disjoint batches, SKIP LOCKED)."""
    emails = [f"kill-{site.name}-{n:02d}@example.org" for n in range(30)]
    site.enrol(emails)
    mailbox.delay = 0.25  # a slow server: the kill lands mid-batch
    first = site.start_worker(mailbox.port, FOLLOWUP_BATCH_SIZE=15)
    wait_for(lambda: len(mailbox.arrived) >= 8, 60, "the first messages", logs=site.logs)
    # Every sender stops before its next message; none is between the server's
    # acceptance and writing its mark (that instant is the documented exposure).
    mailbox.hold.set()
    time.sleep(0.5)
    site.stop([first[0]], signal.SIGKILL)  # the worker only; beat (if apart) goes on

    accepted = {m.to: m.message_id for m in mailbox.arrived}
    recorded = {r["email"] for r in site.messages(emails) if r["status"] == "sent"}
    assert 8 <= len(accepted) < 30
    # Accepted by the server in the batches being sent, but not in the database: only
    # the marks know. (Without them the restarted worker sends these again.)
    only_marked = set(accepted) - recorded
    assert only_marked, (accepted, recorded)
    if site.redis_url:
        # Two dispatchers (pool processes) were sending batches at the same time.
        claims = site.sql(
            "SELECT COUNT(DISTINCT claim) FROM followup_message WHERE status = 'sending'"
        )
        assert claims[0][0] == 2, site.logs()

    mailbox.delay = 0
    mailbox.hold.clear()
    # Beat, if apart, is still running: only the worker comes back.
    site.start_worker(
        mailbox.port, beat=False, FOLLOWUP_BATCH_SIZE=15, FOLLOWUP_SENDING_LEASE_SECONDS=2
    )
    wait_for(
        lambda: (
            len({m.to for m in mailbox.arrived}) == 30
            and {r["status"] for r in site.messages(emails)} == {"sent"}
        ),
        60,
        "every invitation",
        interval=0.5,
        logs=site.logs,
    )
    time.sleep(2)  # a couple of beats more: nothing else may arrive
    site.stop_all()

    assert Counter(m.to for m in mailbox.arrived) == Counter({e: 1 for e in emails})
    mailbox.assert_each_message_once()
    rows = site.messages(emails)
    assert [(r["kind"], r["status"]) for r in rows] == [("invitation", "sent")] * 30
    assert {r["provider_id"] for r in rows} == {m.message_id for m in mailbox.arrived}
    # Those were taken over after the lease (a second claim) and recorded from their
    # marks, with the id of the one copy the server had accepted.
    for r in rows:
        if r["email"] in only_marked:
            assert (r["attempts"], r["provider_id"]) == (2, accepted[r["email"]]), r


def test_redis_flushed_between_two_beats_loses_and_doubles_nothing(postgres_redis, mailbox):
    """FLUSHDB of the installation's Redis database (the broker's queues and bindings
    and the sent marks; FLUSHALL would also wipe other users' databases on a shared
    server) while a batch is being sent: the running batch is recorded, beat's next
    tasks still reach the worker, and contacts that fall due later still go out."""
    import redis

    site = postgres_redis
    first = [f"flush-1-{n:02d}@example.org" for n in range(10)]
    later = [f"flush-2-{n:02d}@example.org" for n in range(10)]
    site.enrol(first)
    mailbox.delay = 0.2
    site.start_worker(mailbox.port)
    wait_for(lambda: len(mailbox.arrived) >= 3, 60, "the first messages", logs=site.logs)
    redis.Redis.from_url(site.redis_url).flushdb()
    mailbox.delay = 0
    site.enrol(later)  # due now: only a dispatch after the flush can send these
    emails = first + later
    wait_for(
        lambda: (
            len({m.to for m in mailbox.arrived}) == 20
            and {r["status"] for r in site.messages(emails)} == {"sent"}
        ),
        60,
        "every invitation",
        interval=0.5,
        logs=site.logs,
    )
    time.sleep(2)
    site.stop_all()
    assert Counter(m.to for m in mailbox.arrived) == Counter({e: 1 for e in emails})
    mailbox.assert_each_message_once()
    assert {r["status"] for r in site.messages(emails)} == {"sent"}


def test_redis_down_and_the_worker_killed_doubles_only_the_email_in_the_servers_hands(
    postgres_redis, mailbox
):
    """The shared cache is down (its Redis unreachable; the broker still runs) and the
    worker is killed (SIGKILL) while the SMTP server holds the "250" of a message it
    has taken: the database took each in-flight mark and each outcome, so the worker
    that takes over sends none of the emails already accepted again. The one in the
    server's hands is uncertain, and an SMTP server cannot be asked: by the documented
    rule it is sent again, with the same Message-ID (a missed follow-up costs the trial
    more than a second copy). Before the in-flight marks, every email accepted in the
    killed batch arrived twice."""
    site = postgres_redis
    emails = [f"down-{n:02d}@example.org" for n in range(10)]
    site.enrol(emails)
    mailbox.delay = 0.05
    no_cache = {"FOLLOWUP_CACHE_URL": f"redis://127.0.0.1:{free_port()}/0"}
    first = site.start_worker(mailbox.port, **no_cache)
    wait_for(lambda: len(mailbox.arrived) >= 3, 60, "the first messages", logs=site.logs)
    mailbox.hold_answer.set()
    wait_for(lambda: mailbox.held, 10, "a message in the server's hands", logs=site.logs)
    site.stop([first[0]], signal.SIGKILL)  # the worker only; beat goes on
    in_hands = {m.to for m in mailbox.held}
    mailbox.hold_answer.clear()
    mailbox.delay = 0
    assert len({m.to for m in mailbox.arrived}) < len(emails)  # killed mid-batch

    site.start_worker(mailbox.port, beat=False, FOLLOWUP_SENDING_LEASE_SECONDS=2, **no_cache)
    wait_for(
        lambda: (
            len({m.to for m in mailbox.arrived}) == len(emails)
            and {r["status"] for r in site.messages(emails)} == {"sent"}
        ),
        60,
        "every invitation",
        interval=0.3,
        logs=site.logs,
    )
    time.sleep(0.5)  # every email is recorded sent: no run may send one again
    site.stop(site.processes, signal.SIGKILL)  # a graceful stop takes seconds

    arrived = Counter(m.to for m in mailbox.arrived)
    assert set(arrived) == set(emails)
    assert {to for to, n in arrived.items() if n > 1} == in_hands, arrived
    assert max(arrived.values()) == 2
    for to in in_hands:
        assert len({m.message_id for m in mailbox.to(to)}) == 1  # one Message-ID
    assert "could not write the in-flight mark" in site.log("worker")
