"""The embedded broker (no Redis): kombu's filesystem transport, with messages that appear whole.

kombu's transport writes a message file in place (create, then write) and its reader moves
and reads any ``*.<queue>.msg`` file it lists without taking the writer's lock. A reader that
comes between the two reads an empty file, and the worker's main process dies with
"Unrecoverable error: JSONDecodeError" — seen in CI when a build's two simulation shards
finished at the same moment and both queued the next stage. Here a message is written under
a name the reader skips (``.part`` after ``.msg``) and then renamed into place: a rename is
atomic within one filesystem, so a listed message is always complete.

``register()`` makes the transport known to kombu as ``colloquyfs://`` (settings use that
URL when ``REDIS_URL`` is unset); every other behaviour is kombu's.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

SCHEME = "colloquyfs"
URL = f"{SCHEME}://"


class Channel(filesystem.Channel):
    def _put(self, queue: Any, message: Any, **kwargs: Any) -> None:  # type: ignore[override]  # kombu passes kwargs
        """Put ``message`` on ``queue``: written aside, then renamed to the name readers look for."""
        # The name kombu gives (its reader sorts by it: milliseconds first, so order is kept).
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # reads as queue "<queue>.msg.part": never taken
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(message)))  # type: ignore[no-untyped-call]
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def register() -> None:
    """Make ``colloquyfs://`` name this transport (in the web process and the workers alike)."""
    TRANSPORT_ALIASES.setdefault(SCHEME, "studio.broker:Transport")
