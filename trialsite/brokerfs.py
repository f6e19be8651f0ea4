"""The embedded site's Celery broker: kombu's filesystem transport, with each message
written whole before a worker can see it.

kombu creates a message's file under its final name and then writes it, while a worker
takes any file with that name without waiting for the writer's lock: a worker that came
to the queue between the two read an empty message and stopped with "Unrecoverable
error: JSONDecodeError" (seen in CI: the killed-worker test's restarted worker, which
then never sent the invitations). Here the message is written under a name the worker
does not look for and renamed into the queue, which is atomic, so a worker sees a whole
message or none, also when the writer is killed half way.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        # "<name>.part" never matches "<queue>.msg", the suffix a worker takes.
        partial = f"{path}.part"
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, path)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {path!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
