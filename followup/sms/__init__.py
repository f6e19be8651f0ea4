"""SMS for the weekly tracking questions: backends (outbox, in-memory, Twilio), the
Twilio REST client and webhook signatures, mobile numbers in E.164, and the reply parser.

Nothing here touches the follow-up models except :class:`~followup.sms.backends.OutboxBackend`,
which writes the outbox table of the embedded installation.
"""
