"""Benchmark: the full dataset streamed through the API against the file export of the
same rows, measured in the same run.

    .venv/bin/python benchmarks/api_stream.py --participants 50000          # SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edc_api_bench \\
        .venv/bin/python benchmarks/api_stream.py --participants 50000

Seeds N BetterBack participants with every patient questionnaire answered (the seeding
of ``benchmarks/export.py``: bulk inserts), then, each in a fresh process so that peak
memory is its own:

* ``file``: :func:`analysis.exports.write_export` of the long score-level CSV (what the
  analysis page's export writes);
* ``api``: ``GET /api/v1/trials/betterback/dataset.csv`` with a personal token, through
  the whole Django and DRF stack (token authentication, throttle, access log, the
  streaming response) in process, the body written to a file chunk by chunk.

Prints rows per second, peak RSS, RSS sampled along the stream (flat when memory does not
grow with the rows) and the ratio API / file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from export import ensure_database, peak_rss_mb, seed, setup_django  # noqa: E402

SHAPE, LEVEL = "long", "score"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_file(out: Path) -> None:
    setup_django()
    from analysis import exports
    from enrolment.models import Trial

    trial = Trial.objects.get(code="betterback")
    before = peak_rss_mb()
    start = time.perf_counter()
    log = exports.write_export(trial, out, "csv", SHAPE, LEVEL, user_label="benchmark")
    seconds = time.perf_counter() - start
    print(f"RESULT {seconds:.3f} {log.rows} {peak_rss_mb():.1f} {before:.1f} -")


def measure_api(out: Path) -> None:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from api import tokens
    from api.models import ApiToken
    from enrolment.models import Trial, TrialRole

    trial = Trial.objects.get(code="betterback")
    user, _ = get_user_model().objects.get_or_create(username="api-benchmark")
    TrialRole.objects.get_or_create(user=user, trial=trial, role=TrialRole.COORDINATOR)
    _, secret = tokens.create(user, trial, name="benchmark", scope=ApiToken.READ, days=1)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    # A first call loads the URLconf and every view module (as a served site has done
    # before its first real request); the file export's imports happen before its timer too.
    assert client.get("/api/v1/me/").status_code == 200
    from analysis import exports  # noqa: F401
    before = peak_rss_mb()
    samples = []
    start = time.perf_counter()
    response = client.get(f"/api/v1/trials/betterback/dataset.csv?shape={SHAPE}&level={LEVEL}")
    assert response.status_code == 200 and response.streaming, response
    lines = 0
    with open(out, "wb") as fh:
        for i, chunk in enumerate(response.streaming_content):
            fh.write(chunk)
            lines += chunk.count(b"\n")
            if i % 400 == 0:  # every 200,000 rows (500 rows a chunk)
                samples.append(rss_mb())
    seconds = time.perf_counter() - start
    samples.append(rss_mb())
    print(f"RESULT {seconds:.3f} {lines - 1} {peak_rss_mb():.1f} {before:.1f} "
          + ",".join(f"{s:.0f}" for s in samples))


def run_phase(phase: str, out: Path) -> tuple[float, int, float, float, str]:
    proc = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--out", str(out)],
        capture_output=True, text=True, env=os.environ.copy(), check=False,
    )
    if proc.returncode:
        sys.exit(f"{phase} failed:\n{proc.stderr[-3000:]}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    seconds, rows, peak, before, samples = line.split()[1:]
    return float(seconds), int(rows), float(peak), float(before), samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=50000)
    parser.add_argument("--no-seed", action="store_true", help="reuse the seeded database")
    parser.add_argument("--phase", choices=["file", "api"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    default_db = f"sqlite:///{tempfile.gettempdir()}/trialsite_api_bench.sqlite3"
    os.environ.setdefault("DATABASE_URL", default_db)
    os.environ.setdefault("WARM_UP", "false")
    if args.phase:
        (measure_file if args.phase == "file" else measure_api)(Path(args.out))
        return
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
        ensure_database(url)
    elif not args.no_seed:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    setup_django()
    if not args.no_seed:
        start = time.perf_counter()
        print(f"seeding {args.participants} participants ({url.split(':')[0]}) ...", flush=True)
        seed(args.participants)
        # A database in use has planner statistics (PostgreSQL's autovacuum analyses the
        # tables); freshly bulk-loaded ones have none, and the export's plan then assumes one
        # participant and scans the responses once per row.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"seeded and analysed in {time.perf_counter() - start:.1f} s", flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for phase in ("file", "api"):
            out = Path(tmp) / f"{phase}.csv"
            seconds, rows, peak, before, samples = run_phase(phase, out)
            results[phase] = (seconds, rows)
            along = f", RSS along the stream {samples} MB" if samples != "-" else ""
            print(f"{phase:>4}: {rows} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s, "
                  f"{out.stat().st_size / 1e6:.1f} MB, peak RSS {peak:.0f} MB "
                  f"(before {before:.0f} MB){along}", flush=True)
        same = (Path(tmp) / "file.csv").read_bytes() == (Path(tmp) / "api.csv").read_bytes()
    (file_s, file_rows), (api_s, api_rows) = results["file"], results["api"]
    print(f"API / file export: {api_s / file_s:.2f} x the time "
          f"({(api_rows / api_s) / (file_rows / file_s):.2f} x the rows per second); "
          f"same rows: {file_rows == api_rows}, same bytes: {same}")


if __name__ == "__main__":
    main()
