"""The one claim/send loop of every outgoing message, whatever its channel (email, SMS,
post; invitations and reminders as :class:`~followup.models.Message`, the weekly SMS as
:class:`~followup.models.SmsMessage`): :mod:`.claim` claims, :mod:`.loop` sends with a
small per-channel ``send_one`` (:mod:`.messages`, :mod:`followup.sms.sending`), and
:mod:`.marks` keeps what a killed dispatcher leaves behind.

**Send**. Waiting messages (pending, or retry whose ``next_attempt_at`` has come) are
claimed by one ``UPDATE`` by primary key (:mod:`.claim`) to ``sending`` with a claim id
and ``attempts + 1``, committed *before* the provider is called. Before the first call
an *in-flight mark* per message (when the batch began) is written to the ``followup``
cache in one pipelined call (Redis in production, files under ``VAR_DIR`` when embedded:
shared by every worker); the moment the provider accepts, a *sent mark* (its provider id
and time) replaces it in meaning (:class:`Attempts`). The outcomes (sent + provider id,
or retry with back-off, or failed after ``FOLLOWUP_MAX_ATTEMPTS`` or a permanent error)
are written in one bulk update, also when an exception ends the batch early
(``finally``); then the batch's marks are deleted, the database holding the outcome. A
claimed message that has been tried before (``attempts > 1``: a retry, or a claim taken
over from a dispatcher that died) is looked up among the marks first, one ``get_many``
for the batch (:func:`read_marks`): a sent mark is recorded as sent, not handed to the
provider again; an in-flight mark without a sent mark makes the message *uncertain*: the
provider may have it. An uncertain SMS is looked up in the gateway's own record first
(``find_sent``; Twilio's message list) and recorded from it when found; an uncertain
email is sent again (an SMTP server cannot be asked; for a survey invitation a second
copy, same Message-ID and link, is the lesser harm than a missed follow-up), as is an
SMS whose backend keeps no record.

Database queries per batch stay constant (13 for email, 14 for SMS in ``benchmarks/``);
the cache sees one write per message sent and at most three calls per batch besides
(:mod:`.marks`). While the cache is down the marks go to the database instead:
``in_flight_at`` committed before the call and the outcome committed at acceptance, two
queries per message, so that a kill still doubles at most the message in the provider's
hands.

Delivery guarantee:

- *Never lost*: a message exists in the database before any attempt and leaves the
  waiting states only as sent, failed (visible on the overdue list and the message
  log) or skipped (its contact closed first). A dispatcher that dies while sending
  leaves its rows in ``sending``; after ``FOLLOWUP_SENDING_LEASE_SECONDS`` another
  dispatcher takes them over. Celery carries no state: a lost, flushed or doubled task
  only makes the next run find the same rows in the database. A mark is only ever
  about its own message: its key holds a random nonce (the contact's, or the SMS's),
  so another installation's or a recreated database's message (same ids, same
  idempotency key) never finds it.
- *Never sent twice*, with these exceptions, each narrow:

  - An email in the SMTP call when the process is killed (SIGKILL, power loss), or
    whose "250" never reached us: sent again, once, after the lease or at the retry
    (the rule above). At most one per killed dispatcher. An SMS in the same instant is
    not, as long as the gateway's record can be asked.
  - The dispatcher dies *and* its marks are lost before the takeover: Redis restarted
    without persistence or flushed, or the embedded cache folder removed, in the same
    minutes. Turn on Redis persistence (AOF) where this matters.
  - The cache can be written but not read at the takeover: every message tried before
    is uncertain (SMS: the gateway is asked; email: sent again).
  - One provider call that hangs longer than the lease: its claim is taken over and
    the message doubled. A dispatcher stops trying new messages after half the lease
    and hands the rest back, so set ``EMAIL_TIMEOUT`` (seconds) below that; Django's
    SMTP backend waits forever without it.

  If neither the cache nor the database can take an in-flight mark, the call is not
  made (:class:`InFlightUnrecorded` ends the batch). A Python exception never doubles
  a message (the ``finally`` records the outcome).
"""
