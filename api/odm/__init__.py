"""CDISC ODM 1.3.2: a trial's metadata and pseudonymised clinical data as one XML file
(:mod:`.export`), and the metadata half read back as a draft protocol file
(:mod:`.draft`)."""
