"""The embedded site's follow-up cache (trialsite.filecache) never drops a sent mark to
make room, where Django's file cache drops a random share once it is full; and it is the
cache the settings give the follow-up on the embedded default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.core.cache.backends.filebased import FileBasedCache

from trialsite.filecache import UnculledFileCache

ROOT = Path(__file__).resolve().parents[1]


def _fill(cache_class, location) -> int:
    cache = cache_class(str(location), {"OPTIONS": {"MAX_ENTRIES": 5, "CULL_FREQUENCY": 2}})
    for n in range(20):
        cache.set(f"sent:{n}", n, 3600)
    return sum(cache.get(f"sent:{n}") == n for n in range(20))


def test_no_mark_is_dropped_to_make_room(tmp_path):
    assert _fill(FileBasedCache, tmp_path / "django") < 20  # what the settings avoid
    assert _fill(UnculledFileCache, tmp_path / "unculled") == 20


def test_the_embedded_site_keeps_its_marks_in_it():
    """The settings of a site with no Redis (CI's environment names one: left out here)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CELERY_BROKER_URL", "FOLLOWUP_CACHE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            "print(settings.CACHES['followup']['BACKEND'])",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "trialsite.settings"},
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() == "trialsite.filecache.UnculledFileCache", result.stderr
