"""Concealed permuted-block randomisation lists for individually randomised trials.

Plain functions of data: no database, no clock. A list is either generated here from a
secret seed (:func:`~.generate.generate_list`) or uploaded by the coordinator, as REDCap
allows (:func:`~.upload.parse_uploaded_list`). Either way it is stored once and then only
read: :func:`~.checks.list_fingerprint` shows it has not changed,
:func:`~.checks.balance_report` lets a data manager check it without seeing the order.

Concealment rests on the seed: anyone who knows it can regenerate the list, so draw it
with ``secrets.randbits(64)`` and keep it where only the list's author can see it.
"""
