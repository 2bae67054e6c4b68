"""A local stand-in for Twilio's Messages API, for tests: an HTTP server on 127.0.0.1 with a
free port, in a thread. It accepts ``POST .../Messages.json`` (form fields To, From or
MessagingServiceSid, Body; basic auth) and lists messages with ``GET .../Messages.json?To=``,
like Twilio, and can be told to fail or to hang.

``hang_first``: "after_accept" stores the first message and then never answers (the provider
took it but the answer is lost); "before_accept" never answers and stores nothing."""

import base64
import json
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ACCOUNT_SID = "ACfake0000000000000000000000000000"
AUTH_TOKEN = "fake-auth-token"
FROM_NUMBER = "+12125550100"


class FakeTwilio:
    def __init__(self):
        self.messages = []
        self.posts = []
        self.gets = 0
        self.responses = []  # (status, json) answered to the next POSTs, in order
        self.hang_first = None
        self.hanging = threading.Event()  # set once a request is hanging
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def settings(self):
        """Environment for a worker (or options for the back-end) pointing at this server."""
        return {
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_API_BASE": self.url,
        }

    def options(self, timeout=5):
        return {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from_number": FROM_NUMBER,
            "api_base": self.url,
            "timeout": timeout,
        }

    def _accept(self, form):
        with self.lock:
            sid = f"SM{len(self.messages) + 1:032d}"
            self.messages.append(
                {
                    "sid": sid,
                    "to": form.get("To", ""),
                    "from": form.get("From", ""),
                    "body": form.get("Body", ""),
                    "status": "queued",
                    "date_created": format_datetime(datetime.now(UTC), usegmt=True),
                }
            )
            return self.messages[-1]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _authorised(self):
                expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._json(401, {"code": 20003, "message": "Authenticate"})
                    return False
                path = urlparse(self.path).path
                if path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                    self._json(404, {"code": 20404, "message": "Not found"})
                    return False
                return True

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake.lock:
                    fake.posts.append(form)
                    first = len(fake.posts) == 1
                if not self._authorised():
                    return
                if first and fake.hang_first:
                    if fake.hang_first == "after_accept":
                        fake._accept(form)
                    fake.hanging.set()
                    fake.release.wait(120)
                    return
                with fake.lock:
                    canned = fake.responses.pop(0) if fake.responses else None
                if canned is not None:
                    self._json(*canned)
                    return
                self._json(201, fake._accept(form))

            def do_GET(self):  # noqa: N802
                if not self._authorised():
                    return
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                with fake.lock:
                    fake.gets += 1
                    found = [m for m in fake.messages if m["to"] == query.get("To")]
                self._json(200, {"messages": list(reversed(found)), "page": 0})

        return Handler
