"""The worker's small HTTP port: the same /healthz, /readyz, /health and /metrics as the web services."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from votingcommon import metrics
from votingcommon.health import HealthProbe

log = logging.getLogger(__name__)


def start_status_server(bind: str, port: int, probe: HealthProbe) -> ThreadingHTTPServer:
    """Serve in a daemon thread; raises OSError at once when the port cannot be bound."""
    server = ThreadingHTTPServer((bind, port), _handler(probe))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="status-server", daemon=True).start()
    return server


def _handler(probe: HealthProbe) -> type[BaseHTTPRequestHandler]:
    class StatusHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._json(200, {"status": "alive"})
            elif self.path in {"/readyz", "/health"}:
                body, ok = probe.report()
                self._json(200 if ok else 503, body)
            elif self.path == "/metrics":
                payload, content_type = metrics.render()
                self._send(200, payload, content_type)
            else:
                self._json(404, {"error": "not found"})

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("status request: " + format, *args)

        def _json(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return StatusHandler
