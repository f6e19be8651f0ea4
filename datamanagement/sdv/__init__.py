"""Source data verification: a monitor marks a form as checked against its source; a later
change to a verified value clears the mark (see :mod:`.services`)."""
