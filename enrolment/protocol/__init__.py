"""Protocol files: a trial described as data (TOML), validated strictly, loaded atomically.

``read_protocol(path)`` parses and validates without touching the database and raises
:class:`ProtocolError` naming the file, the key and what is wrong. ``load_protocol(path)``
writes the trial in one transaction and only saves rows whose values changed, so loading
the same file twice changes nothing (and adds no audit history).

The package: :mod:`.sections` (each part of a file as a pydantic model), :mod:`.spec` (the
whole file and its cross-checks), :mod:`.reading` (file to validated spec) and
:mod:`.writing` (spec to the trial's rows). Import from the module that owns a name.
"""
