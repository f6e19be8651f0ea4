"""Consent versions, re-consent and the optional consent items: the one write path for
consent records, and the questions other apps ask.

Questions other apps ask (they may import enrolment; enrolment imports none of them):

- :func:`~.reading.is_held` / :func:`~.reading.held_ids`: data collection waits for a
  re-consent (follow-up sends no invitation, reminder or SMS question; the questionnaire
  pages say "not available now", never why).
- :func:`~.reading.consented_to` (an item code) and :func:`~.reading.consented_to_effect`
  (an effect such as ``"registry_linkage"``): the participant's answer under their current
  consent.
- :func:`~.reading.interview_candidates`: the participants who may be contacted for an
  interview (the base of BetterBack's interview selection).

A participant's *current* consent is their latest record that is not a refusal. They
*await re-consent* when the trial's required document asks earlier consenters to
re-consent (``reconsent = true``), their current consent is to an earlier version, they
are active, and they have not refused that version.

The package: :mod:`.reading` (the questions), :mod:`.writing` (paper and clinic consent)
and :mod:`.electronic` (consent by link). Import from the module that owns a name.
"""
