#!/usr/bin/env python3
"""A small loopback upstream for the reverse-proxy tests (t_sites.sh).

    upstream.py tcp PORT | unix PATH

GET answers 200 "upstream ok path=<path> host=<Host>"; a WebSocket upgrade
(Upgrade: websocket with a Sec-WebSocket-Key) answers 101 with the accept
key, then echoes one text frame back as "echo:<text>". Runs until killed.
"""
import base64
import hashlib
import http.server
import os
import socketserver
import sys

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_GET(self):
        up = self.headers.get("Upgrade", "")
        key = self.headers.get("Sec-WebSocket-Key")
        if up.lower() == "websocket" and key:
            accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            self.wfile.flush()
            self.echo_frame()
            self.close_connection = True
            return
        body = ("upstream ok path=%s host=%s\n" % (self.path, self.headers.get("Host", ""))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def echo_frame(self):
        hdr = self.rfile.read(2)
        if len(hdr) < 2:
            return
        n = hdr[1] & 0x7F
        mask = self.rfile.read(4) if hdr[1] & 0x80 else b"\0\0\0\0"
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(n)))
        out = b"echo:" + data
        self.wfile.write(bytes([0x81, len(out)]) + out)
        self.wfile.flush()


class TCP(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Unix(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        req, _ = super().get_request()
        return req, ("unix", 0)


if __name__ == "__main__":
    if sys.argv[1] == "tcp":
        TCP(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()
    else:
        if os.path.exists(sys.argv[2]):
            os.unlink(sys.argv[2])
        srv = Unix(sys.argv[2], Handler)
        os.chmod(sys.argv[2], 0o666)
        srv.serve_forever()
