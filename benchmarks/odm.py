"""Benchmark of the streamed CDISC ODM export: memory flat in the number of participants,
time against the CSV export of the same trial measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edc_bench \\
        .venv/bin/python benchmarks/odm.py --sizes 1000 10000

For each size it seeds BetterBack with that many participants (every patient
questionnaire answered, as benchmarks/export.py does), then in fresh processes writes the
ODM file and the long score-level CSV, and prints seconds, file size and peak memory (VmHWM
of the export process). Flat memory: the peak at the largest size over the peak at the
smallest stays near 1 while the participants grow tenfold.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import export as bench  # noqa: E402  (benchmarks/export.py: seeding and memory helpers)


def measure(kind: str, out: Path) -> None:
    bench.setup_django()
    from analysis import exports
    from api.odm.export import write_odm
    from enrolment.models import Trial

    trial = Trial.objects.get(code="betterback")
    start = time.perf_counter()
    if kind == "odm":
        write_odm(trial, out)
    else:
        exports.write_export(trial, out, "csv", "long", "score", user_label="benchmark")
    seconds = time.perf_counter() - start
    print(f"RESULT {seconds:.3f} {out.stat().st_size} {bench.peak_rss_mb():.1f}")


def run_phase(kind: str, out: Path) -> tuple[float, int, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--phase", kind, "--out", str(out)],
        capture_output=True, text=True, env=os.environ.copy(), check=True,
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    seconds, size, peak = line.split()[1:]
    return float(seconds), int(size), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", bench.DEFAULT_DB)
    if args.phase:
        measure(args.phase, Path(args.out))
        return
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database")
    bench.ensure_database(os.environ["DATABASE_URL"])
    bench.setup_django()
    peaks = []
    for n in sorted(args.sizes):
        print(f"seeding {n} participants ...", flush=True)
        bench.seed(n)
        with tempfile.TemporaryDirectory() as tmp:
            odm_s, odm_size, odm_peak = run_phase("odm", Path(tmp) / "trial.xml")
            csv_s, csv_size, csv_peak = run_phase("csv", Path(tmp) / "long.csv")
        peaks.append(odm_peak)
        print(
            f"{n:>7} participants: ODM {odm_s:.2f} s, {odm_size / 1e6:.1f} MB, peak "
            f"{odm_peak:.0f} MB | long CSV {csv_s:.2f} s, {csv_size / 1e6:.1f} MB, peak "
            f"{csv_peak:.0f} MB | ODM/CSV time {odm_s / csv_s:.2f}x"
        )
    if len(peaks) > 1:
        print(f"ODM peak memory, largest over smallest size: {peaks[-1] / peaks[0]:.2f}x "
              f"for {max(args.sizes) / min(args.sizes):.0f}x the participants")


if __name__ == "__main__":
    main()
