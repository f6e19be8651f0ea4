"""Locks and freezes of clinical data, and the database lock.

A lock covers one response, one timepoint of one participant, one participant, one
timepoint across the trial (a freeze) or the whole trial (the database lock). The guard
in :mod:`.guard` is registered with :mod:`enrolment.guards` and refuses every write
covered by an active lock, whatever path writes.
"""
