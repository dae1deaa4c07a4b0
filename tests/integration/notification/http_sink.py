#!/usr/bin/python3
"""Local HTTP endpoints for the notification tests: webhook receiver, Telegram Bot API and
SMS gateway in one server. Every request is appended as one JSON line to LOG_FILE (path,
headers, body, whether the webhook signature verified, the status answered) before the
answer is written, so the log shows every request that reached the server.

Behaviour by path:
  /hook/<anything>             200 (webhook; the signature is checked against SECRET)
  /status/<code>/<anything>    answers <code>
  /slow/<ms>/<anything>        sleeps <ms>, then 200 (for client timeouts)
  /bot<token>/sendMessage      {"ok":true,...} like the Bot API
  /sms                         200 {"status":"queued"}
DELAY_MS delays every answer (to keep deliveries in flight for kill -9 tests).

usage: http_sink.py LOG_FILE PORT_FILE SECRET [DELAY_MS]
"""
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG_FILE, PORT_FILE, SECRET = sys.argv[1], sys.argv[2], sys.argv[3].encode()
DELAY_MS = int(sys.argv[4]) if len(sys.argv) > 4 else 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        status, answer = 200, b'{"ok":true}'
        parts = self.path.split("/")
        if self.path.startswith("/status/"):
            status = int(parts[2])
        elif self.path.startswith("/slow/"):
            time.sleep(int(parts[2]) / 1000.0)
        elif self.path.startswith("/bot") and self.path.endswith("/sendMessage"):
            answer = b'{"ok":true,"result":{"message_id":1}}'
        elif self.path == "/sms":
            answer = b'{"status":"queued"}'
        if DELAY_MS:
            time.sleep(DELAY_MS / 1000.0)
        signature_ok = None
        ts = self.headers.get("X-Loyalty-Timestamp")
        if ts is not None:
            expected = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
            signature_ok = hmac.compare_digest(expected, self.headers.get("X-Loyalty-Signature", ""))
        record = {
            "path": self.path,
            "status": status,
            "headers": {k: v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "signature_ok": signature_ok,
        }
        with lock:
            with open(LOG_FILE, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
