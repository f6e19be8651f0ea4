"""Print a participant's personal survey link, for whoever runs the server.

Staff never see a working link in the site (:mod:`followup.outbox`); in the embedded
demo, where the outbox is the only "delivery", this is how to open the questionnaires
as the patient. Whoever can run this holds ``SECRET_KEY`` and could compute the link
anyway: it gives no one a power they did not have. Each use is kept in the contact's
history.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from enrolment.consent.reading import held_ids
from followup.models import Contact
from followup.survey import OK, link_state
from followup.tokens import hash_token, link_for, token_for


class Command(BaseCommand):
    help = "Print the survey link of a participant's open follow-up questionnaire."

    def add_arguments(self, parser):
        parser.add_argument(
            "study_id", nargs="?", help="without it: the participants with a link open now"
        )
        parser.add_argument("--timepoint", help="timepoint code (default: the one open now)")

    def handle(self, study_id=None, timepoint=None, **options):
        if not study_id:
            return self._list_open(timepoint)
        contacts = Contact.objects.filter(participant__study_id=study_id, status=Contact.INVITED)
        if timepoint:
            contacts = contacts.filter(timepoint__code=timepoint)
        now = timezone.now()
        open_now = [c for c in contacts.order_by("due_at") if link_state(c, now) == OK]
        if not open_now:
            raise CommandError(
                f"{study_id} has no follow-up questionnaire open now"
                + (f" at {timepoint}" if timepoint else "")
                + " (a link exists once the invitation has gone out, inside its window);"
                " without a study ID the command lists the participants with one open now."
            )
        contact = open_now[0]
        if held_ids([contact.participant]):
            raise CommandError(
                f"{study_id}'s data collection is held until re-consent (a consent amendment"
                " requires it): the link says it is not available until the coordinator"
                " records the new consent."
            )
        if contact.token_hash != hash_token(token_for(contact)):
            raise CommandError("The link cannot be recomputed: SECRET_KEY has changed.")
        contact._change_reason = "survey link printed on the command line"
        contact.save(update_fields=["status"])  # a history row, nothing changed
        self.stdout.write(link_for(contact))

    def _list_open(self, timepoint=None, limit=10):
        """Study IDs (and timepoints) whose questionnaire link is open now: where to start."""
        contacts = Contact.objects.filter(status=Contact.INVITED).select_related(
            "participant", "timepoint"
        )
        if timepoint:
            contacts = contacts.filter(timepoint__code=timepoint)
        now = timezone.now()
        found = [c for c in contacts.order_by("due_at")[:2000] if link_state(c, now) == OK]
        held = held_ids(c.participant for c in found)
        usable = [c for c in found if c.participant_id not in held]
        waiting = sorted({c.participant.study_id for c in found if c.participant_id in held})
        waiting_line = (
            "Held until re-consent (their links are not available): " + ", ".join(waiting)
            if waiting
            else ""
        )
        if not usable:
            raise CommandError(
                ("No participant has a follow-up questionnaire open now. " + waiting_line).strip()
            )
        for contact in usable[:limit]:
            self.stdout.write(f"{contact.participant.study_id}  {contact.timepoint.code}")
        if waiting_line:
            self.stdout.write(waiting_line)
