#!/usr/bin/python3
"""A TCP forwarder that slows down downloads, for interrupted-pull tests.

Usage:
  slow-proxy.py --target HOST:PORT --rate BYTES_PER_SECOND --port-file FILE

Listens on 127.0.0.1 on a free port (written to --port-file once it
accepts connections) and forwards every connection to --target; what the
target sends back reaches the client at most --rate bytes per second per
connection (what the client sends is forwarded at full speed).  Plain TCP,
so HTTP requests, Range headers and the registry's answers pass unchanged
(the registry's access log shows them).  Standard library only.
"""

import argparse
import socket
import socketserver
import threading
import time

from serve import announce_and_serve

CHUNK = 16 * 1024


def pump(src, dst, rate):
    start = time.monotonic()
    sent = 0
    try:
        while True:
            data = src.recv(CHUNK)
            if not data:
                break
            dst.sendall(data)
            if rate:
                sent += len(data)
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        host, port = self.server.target
        try:
            upstream = socket.create_connection((host, port))
        except OSError:
            return
        with upstream:
            up = threading.Thread(target=pump,
                                  args=(self.request, upstream, 0),
                                  daemon=True)
            up.start()
            pump(upstream, self.request, self.server.rate)
            up.join(timeout=5)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--target', required=True)
    ap.add_argument('--rate', type=int, required=True)
    ap.add_argument('--port-file', required=True)
    opts = ap.parse_args()
    host, _, port = opts.target.rpartition(':')
    server = Server(('127.0.0.1', 0), Handler)
    server.target = (host, int(port))
    server.rate = opts.rate
    announce_and_serve(server, opts.port_file)


if __name__ == '__main__':
    main()
