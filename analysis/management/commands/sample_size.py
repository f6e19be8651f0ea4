"""Sample size for individual, paired and any cluster design (see analysis.plan.sample_size).

Examples (BetterBack protocol figures):
    manage.py sample_size --design individual --d 0.35 --alpha 0.05 --sided 1 --power 0.8 --json
    manage.py sample_size --design paired --d 0.35 --sided 1 --loss 0.2 --loss-method inflate
    manage.py sample_size --design layout --layout "I.,CI,.C" --d 0.35 --sided 1 \
        --icc 0.01 --cac 0.8 --m 100 --json
    manage.py sample_size --design dogleg --d 0.35 --sided 1 --clusters 3   # power as run
    manage.py sample_size --protocol protocols/betterback.toml   # the protocol's readings
"""

import json

from django.core.management.base import BaseCommand, CommandError

from analysis.plan import sample_size
from analysis.plan.sample_size.describe import describe
from analysis.plan.sample_size.readings import protocol_readings
from enrolment.protocol.reading import read_protocol
from enrolment.protocol.sections import ProtocolError


class Command(BaseCommand):
    help = (
        "Sample size: individual, paired, parallel cluster, dog-leg or any layout of "
        "sequences x periods; or, with --protocol, the protocol's stated figures read two ways."
    )

    def add_arguments(self, parser):
        parser.add_argument("--design", choices=sample_size.DESIGNS)
        parser.add_argument("--protocol", help="a protocol file with a [sample_size] section")
        parser.add_argument("--d", type=float, help="standardised effect size")
        parser.add_argument("--alpha", type=float, default=0.05)
        parser.add_argument("--power", type=float, default=0.80)
        parser.add_argument("--sided", type=int, choices=[1, 2], default=2)
        parser.add_argument(
            "--loss", type=float, default=0.0, help="loss to follow-up (individual, paired)"
        )
        parser.add_argument(
            "--loss-method",
            choices=["divide", "inflate"],
            default="divide",
            help="divide: n/(1-loss); inflate: n*(1+loss) (protocol's 63)",
        )
        parser.add_argument(
            "--method",
            choices=["t", "z"],
            default=None,
            help="how the individually randomised n is computed: t (power.t.test) or z "
            "(normal); default t for individual and paired, z for cluster designs",
        )
        parser.add_argument("--icc", type=float, default=0.01)
        parser.add_argument("--cac", type=float, default=0.80, help="cluster autocorrelation")
        parser.add_argument(
            "--m", type=float, default=100, help="patients per cluster-period (cluster designs)"
        )
        parser.add_argument(
            "--layout",
            help="sequences separated by commas, each period C (control), I (intervention) "
            "or . (not assessed): e.g. I.,CI,.C (dog-leg), C,I, CC,CI, CII,CCI",
        )
        parser.add_argument(
            "--clusters",
            type=float,
            help="power of this many clusters (a multiple of the number of sequences) "
            "instead of rounding up",
        )
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args, **o):
        if o["protocol"]:
            return self._protocol(o["protocol"], o["json"])
        if not o["design"] or o["d"] is None:
            raise CommandError("give --design and --d (or --protocol FILE)")
        if o["layout"] and o["design"] != "layout":
            raise CommandError(f"--layout needs --design layout (not {o['design']})")
        try:
            result = sample_size.calculate(
                o["design"],
                o["d"],
                o["alpha"],
                o["power"],
                o["sided"],
                loss=o["loss"],
                loss_method=o["loss_method"],
                method=o["method"],
                icc=o["icc"],
                cac=o["cac"],
                m=o["m"],
                layout_text=o["layout"],
                clusters=o["clusters"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if o["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        text = describe(result)
        self.stdout.write(text["sentence"])
        self.stdout.write(f"Formula: {text['formula']}.")
        for label, value in text["inputs"] + text["results"]:
            self.stdout.write(f"  {label}: {value}")

    def _protocol(self, path, as_json):
        try:
            spec = read_protocol(path)
        except ProtocolError as exc:
            raise CommandError(str(exc)) from exc
        if spec.sample_size is None or not spec.sample_size.layout:
            raise CommandError(f"{path} has no [sample_size] section with a layout")
        try:
            readings = protocol_readings(spec.sample_size.model_dump())
        except ValueError as exc:
            raise CommandError(f"{path} [sample_size]: {exc}") from exc
        if as_json:
            self.stdout.write(json.dumps(readings, indent=2, ensure_ascii=False))
            return
        for key in ("stated", "design", "parallel", "as_run"):
            if key in readings["sentences"]:
                self.stdout.write(readings["sentences"][key])
