"""The quick test run (issue 19 item 13: ``pytest -m "not e2e"`` under 60 s on a 2-core
machine): its wall time as a ratio to that goal, with the load average before and after
(the machine is shared, and a loaded machine stretches every figure), and its slowest
tests. First, in the same run, what one staff fixture's password costs with Django's
hasher (the baseline) and with the tests' one-iteration hasher (tests/hashers.py).

    .venv/bin/python benchmarks/quick_tests.py [--workers 2] [--top 15] [--no-suite]

SQLite unless DATABASE_URL is set, like the tests.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")

GOAL_SECONDS = 60


def _seconds_per_hash(hasher, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        hasher.encode("correct horse battery staple", hasher.salt())
    return (time.perf_counter() - start) / rounds


def password_costs() -> None:
    import django

    django.setup()
    from django.contrib.auth.hashers import get_hasher

    from tests.hashers import OneIterationPBKDF2PasswordHasher

    real = _seconds_per_hash(get_hasher(), 3)
    fast = _seconds_per_hash(OneIterationPBKDF2PasswordHasher(), 200)
    print(f"a staff fixture's password: Django's hasher {real * 1000:.0f} ms, "
          f"the tests' {fast * 1000:.3f} ms ({real / fast:,.0f}x less)")


def suite(workers: int, top: int) -> None:
    command = [sys.executable, "-m", "pytest", "-m", "not e2e", "-n", str(workers), "-q",
               "-p", "no:cacheprovider", f"--durations={top}"]
    load_before = os.getloadavg()
    start = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    load_after = os.getloadavg()
    lines = run.stdout.splitlines()
    durations = [line for line in lines if re.match(r"^\d+\.\d+s (setup|call|teardown) ", line)]
    print("\n".join(durations))
    print(lines[-1] if lines else run.stderr[-2000:])
    print(f"pytest -m 'not e2e' -n {workers}: {wall:.0f} s wall, {wall / GOAL_SECONDS:.1f}x "
          f"the {GOAL_SECONDS} s goal; load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after, on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--no-suite", action="store_true", help="the password costs only")
    args = parser.parse_args()
    password_costs()
    if not args.no_suite:
        suite(args.workers, args.top)


if __name__ == "__main__":
    main()
