"""A proxy in front of the Stripe-compatible server, for tests in which Stripe acts and its
answer goes astray: every request is forwarded, and once Stripe has captured a payment the
test decides what becomes of the answer (held back past the client's timeout, or never sent
because the service was killed meanwhile)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

# Headers the proxy sets itself or that would not match the body it sends.
_NOT_PASSED_BACK = {"content-length", "transfer-encoding", "connection", "content-encoding"}


class StripeProxy:
    """Forwards to `upstream`. `on_capture` runs after each capture Stripe made; the answer
    is passed back only if it returns True."""

    def __init__(self, upstream: str, on_capture: Callable[[], bool]) -> None:
        self.upstream = upstream
        self.on_capture = on_capture
        self.captures: list[str] = []  # the paths of the captures Stripe made
        self.captured = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self) -> None:
                proxy._forward(self)

            do_GET = do_POST = do_DELETE = forward

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _forward(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("content-length") or 0)
        body = request.rfile.read(length) if length else b""
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        answer = httpx.request(
            request.command, self.upstream + request.path, content=body, headers=headers, timeout=30
        )
        if request.command == "POST" and request.path.endswith("/capture"):
            self.captures.append(request.path)
            passed_back = self.on_capture()
            self.captured.set()
            if not passed_back:
                request.close_connection = True
                return
        try:
            request.send_response(answer.status_code)
            for name, value in answer.headers.items():
                if name.lower() not in _NOT_PASSED_BACK:
                    request.send_header(name, value)
            request.send_header("Content-Length", str(len(answer.content)))
            request.end_headers()
            request.wfile.write(answer.content)
        except OSError:
            pass  # the client stopped waiting

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
