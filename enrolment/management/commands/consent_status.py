from django.core.management.base import BaseCommand, CommandError

from enrolment.consent.reading import awaiting_reconsent, held_ids, policy_of
from enrolment.consent.reading import interview_candidates as consented_interview_candidates
from enrolment.models import Trial


class Command(BaseCommand):
    help = (
        "A trial's consent: the required version, who awaits re-consent (and whether their "
        "data collection is held), and the interview candidates. Study IDs only."
    )

    def add_arguments(self, parser):
        parser.add_argument("trial", help="trial code, e.g. betterback")
        parser.add_argument(
            "--interview-candidates",
            action="store_true",
            help="print only the study IDs of those who may be contacted for an interview",
        )

    def handle(self, *args, trial, interview_candidates, **options):
        found = Trial.objects.filter(code=trial).first()
        if found is None:
            raise CommandError(f"No trial {trial!r}.")
        if interview_candidates:
            for p in consented_interview_candidates(found):
                self.stdout.write(p.study_id)
            return
        policy = policy_of(found)
        if policy is None:
            self.stdout.write(f"{found.code}: the protocol file lists no consent documents")
            return
        waiting = awaiting_reconsent(found)
        held = held_ids(waiting)
        self.stdout.write(
            f"{found.code}: consent {policy.required_version} required; "
            f"{len(waiting)} awaiting re-consent, {len(held)} held"
        )
        for p in waiting:
            self.stdout.write(f"  {p.study_id}{'  held' if p.pk in held else ''}")
