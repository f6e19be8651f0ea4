"""The file cache of the embedded site, without Django's culling.

The follow-up cache holds the sent marks that keep a message from going out twice
(followup.sending.marks); culling would drop marks at random, so they are deleted once
recorded instead. Django's file cache decides whether to cull on every ``set`` by
listing its whole directory, so a batch that writes a mark per message listed the
directory once per message, its own earlier marks included: a dispatch batch of 1,000
emails took 4.4 s against 0.5 s for 200 (benchmarks/dispatch.py on the file cache). This
one never culls and never lists.
"""

from __future__ import annotations

from django.core.cache.backends.filebased import FileBasedCache


class UnculledFileCache(FileBasedCache):
    def _cull(self):
        return None
