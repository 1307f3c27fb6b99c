"""A reverse proxy in front of gunicorn that forwards client addresses as nginx does.

It stands for the README's nginx (``proxy_set_header X-Forwarded-For
$proxy_add_x_forwarded_for``): whatever ``X-Forwarded-For`` the client sent is kept and the
address the proxy sees the client connect from is appended, so the last entry is the one a
client cannot forge. ``X-Forwarded-Proto`` is set to ``http``. Each request gets its own
upstream connection (``Connection: close``, as nginx's default HTTP/1.0 upstream).

Runs an asyncio loop in a daemon thread; :meth:`TcpProxy.start` returns once it listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field

from tests.reliability.harness import free_port

_REPLACED = (b"x-forwarded-for", b"x-forwarded-proto", b"connection", b"keep-alive")


def forwarded_head(head: bytes, peer: str) -> bytes:
    """The request head as sent upstream: the client's X-Forwarded-For plus ``peer``.

    >>> head = forwarded_head(b"GET / HTTP/1.1\\r\\nX-Forwarded-For: 1.2.3.4\\r\\n\\r\\n",
    ...                       "127.0.0.2")
    >>> head.split(b"\\r\\n")[:3]
    [b'GET / HTTP/1.1', b'X-Forwarded-For: 1.2.3.4, 127.0.0.2', b'X-Forwarded-Proto: http']
    """
    request_line, *lines = head.rstrip(b"\r\n").split(b"\r\n")
    kept, forwarded = [], []
    for line in lines:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-forwarded-for":
            forwarded.append(value.strip())
        if name.strip().lower() not in _REPLACED:
            kept.append(line)
    chain = b", ".join([*forwarded, peer.encode()])
    kept += [b"X-Forwarded-For: " + chain, b"X-Forwarded-Proto: http", b"Connection: close"]
    return b"\r\n".join([request_line, *kept]) + b"\r\n\r\n"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        if writer.can_write_eof():
            with contextlib.suppress(OSError):
                writer.write_eof()


@dataclass
class TcpProxy:
    upstream_port: int
    port: int = field(default_factory=free_port)
    requests: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _stopping: asyncio.Event | None = None
    _open: set = field(default_factory=set)

    async def _handle(self, client_reader, client_writer) -> None:
        peer = client_writer.get_extra_info("peername")[0]
        up_writer = None
        self._open.add(client_writer)
        try:
            head = await client_reader.readuntil(b"\r\n\r\n")
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            self._open.add(up_writer)
            self.requests += 1
            up_writer.write(forwarded_head(head, peer))
            await asyncio.gather(_pipe(client_reader, up_writer),
                                 _pipe(up_reader, client_writer))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass
        finally:
            for writer in (up_writer, client_writer):
                if writer is not None:
                    self._open.discard(writer)
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()

    async def _serve(self, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        ready.set()
        await self._stopping.wait()
        server.close()
        await server.wait_closed()  # Python 3.11: returns once the listener is closed
        # Closing the connections ends the handlers' reads; cancelling them instead trips
        # Python 3.11's stream callback (task.exception() on a cancelled task).
        for writer in list(self._open):
            writer.close()
        handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        await asyncio.wait(handlers, timeout=5) if handlers else None

    def start(self) -> TcpProxy:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            try:
                self._loop.run_until_complete(self._serve(ready))
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="tcp-proxy")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the proxy did not start listening")
        return self

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout=10)
