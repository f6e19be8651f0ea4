"""Writes of responses: validate, score, save with the user and a reason in the audit
history. Views and management commands call these; nothing else writes a Response.

The package: :mod:`.answers` (what an answer may be), :mod:`.scoring`, :mod:`.saving`
(visits, saving and correcting responses) and :mod:`.double_entry` (paper entered twice
and resolved). Import from the module that owns a name.
"""
