import json

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from questionnaires.instruments import get
from questionnaires.management.commands._base import VersionedCommand
from questionnaires.services.answers import validate_answers
from questionnaires.services.scoring import score_options


class Command(VersionedCommand):
    help = "Score one set of answers and print the scores as JSON."

    def add_arguments(self, parser):
        parser.add_argument("instrument", help="instrument code, e.g. odi")
        parser.add_argument(
            "--answers", required=True, help='JSON object of item id to answer, e.g. {"q1": 3}'
        )
        parser.add_argument("--version", type=int, dest="instrument_version", default=None)
        parser.add_argument("--value-set", dest="value_set", default=None, help="EQ-5D value set")

    def handle(self, *args, instrument, answers, instrument_version, value_set, **options):
        try:
            definition = get(instrument, instrument_version)
        except KeyError as exc:
            raise CommandError(exc.args[0]) from None
        try:
            parsed = json.loads(answers)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--answers is not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise CommandError("--answers must be a JSON object of item id to answer.")
        errors = validate_answers(definition, parsed)
        if errors:
            lines = [f"  {k}: {v}" for k, v in sorted(errors.items())]
            raise CommandError("Invalid answers:\n" + "\n".join(lines))
        try:
            kwargs = score_options(definition, value_set=value_set)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        scores = definition.score(parsed, **kwargs)
        self.stdout.write(json.dumps(scores, ensure_ascii=False, sort_keys=True))
