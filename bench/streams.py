#!/usr/bin/env python3
"""Hold N live streams open from one process, as N viewers would from their
own browsers: streams.py PORT COOKIE N PATH STATUSFILE. Each connection sends
GET PATH with the session cookie and is read with one event loop (selectors);
STATUSFILE gets "open K" once every stream has had its first event (or after
10 s with K of them), then the streams are held until SIGTERM. One process
instead of N curl processes: the clients' own cost on these 2 cores is not
what the bench measures (the pool's /login throughput beside open streams)."""
import selectors, signal, socket, sys, time

port, cookie, n, path, status = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
sel = selectors.DefaultSelector()
seen = {}
req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: %s\r\nAccept: text/event-stream\r\n\r\n"
       % (path, port, cookie)).encode()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, i)
    seen[i] = b""
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
opened, reported, start = set(), False, time.time()
while True:
    for key, _ in sel.select(timeout=0.5):
        try:
            data = key.fileobj.recv(65536)
        except BlockingIOError:
            continue
        if not data:
            sel.unregister(key.fileobj)
            continue
        i = key.data
        if i not in opened:
            seen[i] += data
            if b"event: metrics" in seen[i]:
                opened.add(i)
                seen[i] = b""
    if not reported and (len(opened) == n or time.time() - start > 10):
        with open(status, "w") as f:
            f.write("open %d\n" % len(opened))
        reported = True
