from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from datamanagement.locks import services
from enrolment.models import Trial


class Command(BaseCommand):
    help = (
        "Lock a trial's database and build the locked dataset (every export, the locks, the "
        "audit trail and the registered parts in one zip with a SHA-256 manifest); "
        "--unlock with --reason lifts the lock."
    )

    def add_arguments(self, parser):
        parser.add_argument("trial", help="trial code, e.g. betterback")
        parser.add_argument("--reason", default="", help="why (required to unlock)")
        parser.add_argument("--unlock", action="store_true")

    def handle(self, *args, trial, reason, unlock, **options):
        trial = Trial.objects.filter(code=trial).first()
        if trial is None:
            raise CommandError("No such trial.")
        try:
            if unlock:
                lock = services.database_lock(trial)
                if lock is None:
                    raise CommandError(f"{trial.code} is not locked.")
                services.unlock(lock, reason=reason)
                self.stdout.write(f"{trial.code} unlocked.")
                return
            _lock, dataset = services.lock_database(trial, reason=reason)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"{trial.code} locked; {dataset.path}")
        self.stdout.write(f"SHA-256 {dataset.sha256}")
