#!/usr/bin/python3
"""An HTTP forwarder that answers 503 to the first N blob requests.

Usage:
  flaky-proxy.py --target HOST:PORT --failures N --port-file FILE

Listens on 127.0.0.1 on a free port (written to --port-file once it
accepts connections). Requests whose path contains /blobs/ get
"503 Service Unavailable" until N such requests have been refused; every
other request, and those after, is forwarded to --target unchanged (Host
header included, so the registry's Location headers name the proxy).
Each refusal is a line "503 METHOD PATH" on stdout. Standard library only.
"""

import argparse
import http.client
import http.server
import threading

from serve import announce_and_serve


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def handle_any(self):
        server = self.server
        with server.lock:
            refuse = '/blobs/' in self.path and server.refused < server.failures
            if refuse:
                server.refused += 1
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else None
        if refuse:
            print('503 %s %s' % (self.command, self.path), flush=True)
            payload = b'{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}'
            self.send_response(503)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        host, port = server.target.rsplit(':', 1)
        upstream = http.client.HTTPConnection(host, int(port), timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != 'connection'}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in ('connection', 'transfer-encoding', 'content-length'):
                self.send_header(key, value)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)
        upstream.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--target', required=True)
    ap.add_argument('--failures', type=int, required=True)
    ap.add_argument('--port-file', required=True)
    opts = ap.parse_args()
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    server.daemon_threads = True
    server.target = opts.target
    server.failures = opts.failures
    server.refused = 0
    server.lock = threading.Lock()
    announce_and_serve(server, opts.port_file)


if __name__ == '__main__':
    main()
