"""Investigator signatures of a participant's casebook or one timepoint of it."""
