"""The embedded broker (REDIS_URL unset): kombu's filesystem transport, with each message written
whole before a worker can see it.

kombu's own `_put` creates the message file under its final name, then writes it: a worker polling
the folder at that moment moves and reads an empty file, fails to decode it and stops (seen in CI
on a slow machine: an upload's import never ran). Here the message is written under a name the
workers skip (`_get` takes `<name>.<queue>.msg` only) and renamed into place, which is atomic.
Registered as the transport `embeddedfs://` (env.celery_broker)."""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

SCHEME = "embeddedfs"


class Channel(filesystem.Channel):
    def _put(self, queue: str, message, **kwargs) -> None:  # type: ignore[override]  # kombu passes `mandatory`, …
        name = f"{int(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.partial"  # not "<name>.<queue>.msg": no worker takes it
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(message)))
            os.replace(partial, final)
        except OSError as error:
            raise ChannelError(f"Cannot add file {final!r} to directory") from error


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
