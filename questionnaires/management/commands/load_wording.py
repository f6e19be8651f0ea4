"""Load a trial's official wording of an instrument in one language.

JSON::

    {"title": "...", "instructions": "...",
     "items": {"q1": "text", "q2": {"text": "...", "anchors": ["low", "high"],
                                     "choices": {"0": "...", "1": "..."}}}}

CSV (header ``item,part,code,text``): ``part`` is ``text``, ``min``, ``max`` or ``choice``
(with the choice code in ``code``); item ``_title`` / ``_instructions`` with part ``text``
give the title and instructions.
"""

import csv
import json
from pathlib import Path

from django.core.management.base import CommandError
from django.db import transaction

from enrolment.models import Trial
from questionnaires.instruments import base, for_trial, get
from questionnaires.management.commands._base import VersionedCommand
from questionnaires.models import InstrumentWording


def parse_json(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise CommandError("The JSON file must hold an object.")
    result = {"title": data.get("title", ""), "instructions": data.get("instructions", "")}
    items, anchors, choices = {}, {}, {}
    for item_id, value in (data.get("items") or {}).items():
        if isinstance(value, str):
            items[item_id] = value
            continue
        if value.get("text"):
            items[item_id] = value["text"]
        if value.get("anchors"):
            anchors[item_id] = list(value["anchors"])
        if value.get("choices"):
            choices[item_id] = {str(k): v for k, v in value["choices"].items()}
    result.update(items=items, anchors=anchors, choices=choices)
    return result


def parse_csv(path: Path) -> dict:
    result = {"title": "", "instructions": "", "items": {}, "anchors": {}, "choices": {}}
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if not {"item", "part", "text"} <= set(reader.fieldnames or []):
            raise CommandError("The CSV file needs the columns item, part, code, text.")
        for n, row in enumerate(reader, start=2):
            item, part, text = row["item"].strip(), row["part"].strip(), row["text"].strip()
            if item in ("_title", "_instructions"):
                result[item[1:]] = text
            elif part == "text":
                result["items"][item] = text
            elif part in ("min", "max"):
                pair = result["anchors"].setdefault(item, ["", ""])
                pair[0 if part == "min" else 1] = text
            elif part == "choice":
                result["choices"].setdefault(item, {})[str(row.get("code", "")).strip()] = text
            else:
                raise CommandError(f"line {n}: unknown part {part!r}")
    return result


def check(instrument: base.Instrument, wording: dict) -> list[str]:
    errors = []
    ids = set(instrument.item_ids)
    for key in ("items", "anchors", "choices"):
        for item_id in wording[key]:
            if item_id not in ids:
                errors.append(f"unknown item {item_id!r}")
    for item_id, labels in wording["choices"].items():
        if item_id not in ids:
            continue
        allowed = {str(c) for c in instrument.item(item_id).allowed_codes() or ()}
        for code in labels:
            if code not in allowed:
                errors.append(f"{item_id}: unknown choice code {code!r}")
    for item_id, pair in wording["anchors"].items():
        if len(pair) != 2:
            errors.append(f"{item_id}: anchors must be two labels (min, max)")
    return sorted(set(errors))


class Command(VersionedCommand):
    help = "Load the official wording of an instrument for a trial and language (JSON or CSV)."

    def add_arguments(self, parser):
        parser.add_argument("trial", help="trial code, e.g. betterback")
        parser.add_argument("instrument", help="instrument code, e.g. odi")
        parser.add_argument("language", help="language code, e.g. sv")
        parser.add_argument("file", help="wording file, .json or .csv")
        parser.add_argument("--version", type=int, dest="instrument_version", default=None)

    def handle(self, *args, trial, instrument, language, file, instrument_version, **options):
        try:
            trial_obj = Trial.objects.get(code=trial)
        except Trial.DoesNotExist:
            raise CommandError(f"unknown trial {trial!r}") from None
        try:
            # Without --version: the version the trial asks (its protocol file's pin).
            definition = (
                get(instrument, instrument_version)
                if instrument_version is not None
                else for_trial(trial_obj, instrument)
            )
        except KeyError as exc:
            raise CommandError(exc.args[0]) from None
        path = Path(file)
        if not path.exists():
            raise CommandError(f"no such file: {file}")
        try:
            wording = parse_csv(path) if path.suffix.lower() == ".csv" else parse_json(path)
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, KeyError) as exc:
            raise CommandError(f"{file}: cannot read the wording: {exc}") from None
        errors = check(definition, wording)
        if errors:
            raise CommandError(f"{file}: " + "; ".join(errors) + ". Nothing was loaded.")
        with transaction.atomic():
            obj, created = InstrumentWording.objects.update_or_create(
                trial=trial_obj,
                instrument=definition.code,
                version=definition.version,
                language=language,
                defaults={**wording, "source_file": path.name},
            )
        verb = "loaded" if created else "replaced"
        self.stdout.write(
            f"{definition.code} v{definition.version} ({language}) {verb} for {trial_obj.code}: "
            f"{len(wording['items'])} item texts, {len(wording['anchors'])} anchors, "
            f"{len(wording['choices'])} choice lists."
        )
