"""`audit witness serve`: a witness over HTTP, on the machine of whoever keeps the office to its history (an
accountability board, a newsroom, a university).

    POST /add-checkpoint        the C2SP tlog-witness call: old size, consistency proof, signed checkpoint
                                -> the witness's cosignature, or 409 with the size it has, 422, 403, 404
    GET  /checkpoint/<origin>   the latest checkpoint it cosigned for that log (the protocol leaves reading
                                to each witness): what a reader compares a package with, to find a rollback
                                or a fork

Python's own HTTP server: the protocol is two plain-text calls, and a web framework would be one more thing for
a board to install and trust. Requests are served one thread each; the witness's lock orders the updates.
"""

from __future__ import annotations

import signal
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from audit.witness.service import MAX_BODY, Answer, Witness

CHECKPOINT_PATH = "/checkpoint/"


def handler(witness: Witness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "audit-witness"
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            if self.path != "/add-checkpoint":
                return self._send(Answer(404, "no such call\n"))
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._send(Answer(413, "the request is too large\n"))
            self._send(witness.add_checkpoint(self.rfile.read(length)))

        def do_GET(self) -> None:  # noqa: N802
            if not self.path.startswith(CHECKPOINT_PATH):
                return self._send(Answer(404, "no such call\n"))
            origin = urllib.parse.unquote(self.path[len(CHECKPOINT_PATH):])
            note = witness.latest_note(origin)
            self._send(Answer(200, note) if note else Answer(404, f"no checkpoint cosigned for {origin!r}\n"))

        def _send(self, answer: Answer) -> None:
            body = answer.body.encode("utf-8")
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's own name)
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


def serve(witness: Witness, host: str, port: int, ready: Path | None = None) -> None:
    """Serve until SIGTERM or Ctrl-C. With `ready`, write the address served there once listening (port 0 picks a
    free port), so whoever started the witness knows where to reach it."""
    server = ThreadingHTTPServer((host, port), handler(witness))
    server.daemon_threads = True

    def stop(*_) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    bound_host, bound_port = server.server_address[:2]
    address = f"http://{bound_host!s}:{bound_port}"
    if ready is not None:
        ready.write_text(address + "\n", encoding="utf-8")
    sys.stderr.write(f"witness {witness.name} listening on {address}\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
