"""Writes that touch clinical data go through these functions: validate, then write in
one transaction, with the user and the reason recorded in the audit history.

One module per concern: :mod:`.enrol` (screening and enrolment, allocation),
:mod:`.changes` (corrections with a reason), :mod:`.erasure` (personal data erased) and
:mod:`.status` (withdrawal, death, crossover, completion); :mod:`.errors` has the error
they raise. The domain signals they send are defined in :mod:`enrolment.signals`.
"""
