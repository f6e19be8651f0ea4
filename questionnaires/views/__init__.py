"""Questionnaire pages, one module per kind: :mod:`.visits` (the patient-facing visit and a
physiotherapist's own questionnaires), :mod:`.paper` (paper entry and double-entry
comparison), :mod:`.corrections`, :mod:`.crpe` (the CRPE-tool) and :mod:`.missing`
(marking questionnaires not done); :mod:`.common` has the lookups they share.

Participants are fetched through ``Participant.objects.visible_to(user)``: 404 elsewhere.
"""
