#!/usr/bin/env python3
"""A loopback webhook receiver for the alert tests: every POST is appended to
FILE as one JSON line {"valid": bool, "event": ..., "body": ...}; valid says
whether X-Aapanel-Signature is HMAC-SHA256(SECRET, timestamp "." body).
Usage: hook_sink.py PORT FILE SECRET. Stops on SIGTERM. Loopback only."""
import hashlib, hmac, http.server, json, os, signal, sys

PORT, FILE, SECRET = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        ts = self.headers.get("X-Aapanel-Timestamp", "")
        sig = self.headers.get("X-Aapanel-Signature", "")
        want = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        try:
            event = json.loads(body).get("event")
        except ValueError:
            event = None
        with open(FILE, "a") as f:
            f.write(json.dumps({"valid": hmac.compare_digest(sig, want), "event": event,
                                "body": body.decode("utf-8", "replace")}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
