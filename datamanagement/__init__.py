"""Data management: queries, edit checks, source verification, locks, signatures and the
database lock. It sits above enrolment, questionnaires and follow-up, which never import
it: it reaches them through hooks (``enrolment.guards`` for locks, signals for checks)."""
