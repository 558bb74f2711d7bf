"""One keep-alive HTTP/1.1 connection that POSTs a request in a single write.

Why not ``http.client.HTTPConnection`` as is: it writes the head and the body separately and reads
the reply in several steps. Each socket call releases the GIL and must win it back, and while the
application thread is busy that takes up to the interpreter's switch interval (5 ms) each time;
with five or six such calls per request, the export thread of a CPU-bound app could not keep pace
with a batch filling every ~15 ms. Here a request is one ``sendall`` and the reply usually one
``recv``. Parsing the reply is still ``http.client.HTTPResponse``'s job (status line, headers,
chunked or sized bodies, keep-alive rules), so no HTTP parsing is home-grown.

The socket has ``TCP_NODELAY`` too: with Nagle on, a write that follows an unacknowledged one waits
for the receiver's delayed ACK (~40 ms on Linux).
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Mapping

__all__ = ["HttpConnection", "build_request_head"]


def build_request_head(host: str, port: int, https: bool, path: str, headers: Mapping[str, str]) -> bytes:
    """The request line and headers, up to (not including) ``Content-Length``; validated once here."""
    host_header = f"[{host}]" if ":" in host else host  # IPv6 literal
    if port != (443 if https else 80):
        host_header += f":{port}"
    lines = [f"POST {path} HTTP/1.1", f"Host: {host_header}"]
    for key, value in headers.items():
        # A CR or LF would let a header value inject headers (or a body): refuse at configuration time.
        if any(ch in key or ch in value for ch in "\r\n") or not key or ":" in key:
            raise ValueError(f"invalid HTTP header {key!r}")
        if key.lower() not in ("host", "content-length", "connection", "transfer-encoding"):
            lines.append(f"{key}: {value}")
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


class HttpConnection:
    """A connected socket to one host; ``post`` sends a request and reads its whole reply."""

    def __init__(self, host: str, port: int, *, ssl_context: ssl.SSLContext | None, timeout: float) -> None:
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if ssl_context is not None:
                sock = ssl_context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    def post(self, head: bytes, body: bytes, timeout: float) -> tuple[int, str | None, bytes, bool]:
        """Send ``head`` + body, return (status, Retry-After header, reply body, server will close).

        Raises OSError or http.client.HTTPException on any network or protocol failure; the
        connection must then be discarded.
        """
        self.sock.settimeout(timeout)
        self.sock.sendall(b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body))
        response = http.client.HTTPResponse(self.sock, method="POST")
        try:
            response.begin()
            reply = response.read()  # all of it, so the next request starts on a clean stream
            return response.status, response.getheader("Retry-After"), reply, response.will_close
        finally:
            response.close()  # closes the response's file object, not the socket

    def abort(self) -> None:
        """Wake a thread blocked on this socket (shutdown, unlike close, does that), then close it."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
