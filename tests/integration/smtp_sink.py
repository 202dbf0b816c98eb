#!/usr/bin/env python3
"""A loopback SMTP receiver for the alert tests: STARTTLS and AUTH PLAIN/LOGIN,
each message written to DIR/N.eml with a first line "X-Sink: tls=0|1 user=NAME".
Usage: smtp_sink.py PORT DIR CERT KEY. Stops on SIGTERM. Loopback only."""
import base64, os, signal, socketserver, ssl, sys

PORT, DIR, CERT, KEY = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
CTX = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
CTX.load_cert_chain(CERT, KEY)
COUNT = [0]


class Handler(socketserver.StreamRequestHandler):
    timeout = 20

    def send(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        tls, user, rcpt, sender = False, "", [], ""
        self.send("220 sink ESMTP")
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            cmd = line[:4].upper()
            if cmd in ("EHLO", "HELO"):
                self.wfile.write(b"250-sink\r\n")
                if not tls:
                    self.wfile.write(b"250-STARTTLS\r\n")
                self.send("250 AUTH PLAIN LOGIN")
            elif line.upper() == "STARTTLS":
                self.send("220 ready")
                self.request = CTX.wrap_socket(self.request, server_side=True)
                self.rfile = self.request.makefile("rb")
                self.wfile = self.request.makefile("wb")
                tls = True
            elif line.upper().startswith("AUTH PLAIN"):
                parts = line.split(" ", 2)
                blob = parts[2] if len(parts) > 2 else None
                if blob is None:
                    self.send("334 ")
                    blob = self.rfile.readline().decode().strip()
                user = base64.b64decode(blob).split(b"\0")[1].decode()
                self.send("235 ok")
            elif line.upper().startswith("AUTH LOGIN"):
                self.send("334 VXNlcm5hbWU6")
                user = base64.b64decode(self.rfile.readline().strip()).decode()
                self.send("334 UGFzc3dvcmQ6")
                self.rfile.readline()
                self.send("235 ok")
            elif cmd == "MAIL":
                sender = line
                self.send("250 ok")
            elif cmd == "RCPT":
                rcpt.append(line)
                self.send("250 ok")
            elif cmd == "DATA":
                self.send("354 go")
                body = []
                while True:
                    l = self.rfile.readline(65536)
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    body.append(l.decode("utf-8", "replace"))
                COUNT[0] += 1
                path = os.path.join(DIR, "%03d.eml" % COUNT[0])
                with open(path + ".tmp", "w") as f:
                    f.write("X-Sink: tls=%d user=%s\n" % (tls, user))
                    f.write("X-Sink-Rcpt: %s\n" % " ".join(rcpt))
                    f.write("".join(body))
                os.rename(path + ".tmp", path)
                rcpt = []
                self.send("250 queued")
            elif cmd == "RSET" or cmd == "NOOP":
                self.send("250 ok")
            elif cmd == "QUIT":
                self.send("221 bye")
                return
            else:
                self.send("502 no")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


srv = Server(("127.0.0.1", PORT), Handler)
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
srv.serve_forever()
