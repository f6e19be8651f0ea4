"""What happens to a participant, as enrolment's actions (:mod:`enrolment.actions`) say it.

Every signal is sent by one action, inside its transaction, with ``participant=``: the
apps above listen (follow-up plans, re-plans and cancels contacts and SMS) as database
writes only, so enrolment never imports them and a schedule is never half written. These
are the only reactions to participant changes: a plain ``save()`` of a participant or
their details (a correction in the admin, a migration, a test) is not an event, so nobody
listens to ``post_save`` of :class:`~enrolment.models.Participant` for the domain.

Consent held for a re-consent and its release are no signals: the dispatchers ask
:func:`enrolment.consent.reading.held_ids` at every batch, so a re-consent counts at their next
run; a refusal that withdraws sends :data:`participant_withdrawn`.
"""

from __future__ import annotations

from django.dispatch import Signal

# ``enrol_participant``: planned (contacts, weekly SMS), reachability known.
participant_enrolled = Signal()
# ``withdraw_participant``: every open contact and SMS question cancelled.
participant_withdrawn = Signal()
# ``record_death``: as withdrawal, so no invitation reaches the family.
participant_died = Signal()
# ``complete_participant``: the participant finished the trial; nothing more is asked.
participant_completed = Signal()
# ``update_participant`` with a new ``enrolled_on``: contacts not yet sent move with it.
enrolment_date_corrected = Signal()
# ``update_personal_details`` with a changed email, mobile, postal address, language or
# contact preference (``fields``: the names changed): reachability is refreshed.
contact_details_changed = Signal()
# ``erase_personal_data``, with ``identifiers`` (every name, national ID, email and
# mobile the participant's personal details ever held): each app scrubs the copies it
# stores and answers ``{where: rows scrubbed}`` for the erasure record.
personal_data_erased = Signal()
