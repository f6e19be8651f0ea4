"""Sample size for the BetterBack designs (see analysis.plan.sample_size).

Example (protocol figures):
    manage.py sample_size --design individual --d 0.35 --alpha 0.05 --sided 1 --power 0.8 --json
    manage.py sample_size --design paired --d 0.35 --sided 1 --loss 0.2 --loss-method inflate
    manage.py sample_size --design dogleg --d 0.35 --sided 1 --icc 0.01 --cac 0.8 --m 100
"""

import json

from django.core.management.base import BaseCommand, CommandError

from analysis.plan import sample_size


class Command(BaseCommand):
    help = "Sample size: individual, paired, cluster (parallel) or dogleg design."

    def add_arguments(self, parser):
        parser.add_argument(
            "--design", required=True, choices=["individual", "paired", "cluster", "dogleg"]
        )
        parser.add_argument("--d", type=float, required=True, help="standardised effect size")
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
            help="t (power.t.test) or z (normal); default t for individual "
            "and paired, z for cluster designs",
        )
        parser.add_argument("--icc", type=float, default=0.01)
        parser.add_argument(
            "--cac", type=float, default=0.80, help="cluster autocorrelation (dogleg)"
        )
        parser.add_argument(
            "--m",
            type=int,
            default=100,
            help="patients per cluster (per cluster-period for dogleg)",
        )
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args, **o):
        common = {"d": o["d"], "alpha": o["alpha"], "power": o["power"], "sided": o["sided"]}
        try:
            if o["design"] in ("individual", "paired"):
                fn = getattr(sample_size, o["design"])
                result = fn(
                    **common,
                    loss=o["loss"],
                    loss_method=o["loss_method"],
                    method=o["method"] or "t",
                )
            elif o["design"] == "cluster":
                result = sample_size.cluster_parallel(
                    **common, icc=o["icc"], m=o["m"], method=o["method"] or "z"
                )
            else:
                result = sample_size.dogleg(
                    **common, icc=o["icc"], cac=o["cac"], m=o["m"], method=o["method"] or "z"
                )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        result = {k: (float(v) if hasattr(v, "item") else v) for k, v in result.items()}
        if o["json"]:
            self.stdout.write(json.dumps(result, indent=2))
        else:
            for key, value in result.items():
                self.stdout.write(f"{key}: {value}")
