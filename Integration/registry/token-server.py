#!/usr/bin/python3
"""A tiny Docker registry token server (Bearer auth) for the tests.

Usage:
  token-server.py --key KEY.pem --cert CERT.pem --htpasswd FILE
                  --issuer ISSUER --port-file FILE --log FILE [--port N]

Listens on 127.0.0.1 (port 0, i.e. a free one, unless --port is given)
and writes the port it got to --port-file once it accepts connections.
Answers GET /token?service=S&scope=S1&scope=S2 (and the OAuth2 form,
POST /token with grant_type=password&username=U&password=P&scope=S1 S2)
as distribution's token specification says:

  - optional Basic auth, checked against the htpasswd FILE with
    `htpasswd -vb` (the same bcrypt file the TLS registry uses);
    wrong user or password: 401;
  - an authenticated user gets every action it asks for, an anonymous
    client only `pull`;
  - the answer is {"token", "access_token", "expires_in": 60,
    "issued_at"}, the JWT signed RS256 (with the `openssl` CLI) and its
    header carrying `x5c` = [base64 DER of CERT.pem], so distribution
    verifies it against its `rootcertbundle`.

Every request appends one line to --log: "USER SCOPE..." where USER is
the user name, `anonymous`, or `rejected:NAME` for bad credentials, and
SCOPE... the requested scopes separated by spaces (`-` for none).
Only the Python standard library and the openssl CLI are used.
"""

import argparse
import base64
import datetime
import http.server
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse

from serve import announce_and_serve

TOKEN_LIFETIME = 60


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


class Signer:
    def __init__(self, key, cert):
        self.key = key
        der = subprocess.run(['openssl', 'x509', '-in', cert, '-outform',
                              'DER'], stdout=subprocess.PIPE,
                             check=True).stdout
        self.x5c = [base64.b64encode(der).decode()]

    def sign(self, claims):
        header = {'typ': 'JWT', 'alg': 'RS256', 'x5c': self.x5c}
        signing_input = (b64url(json.dumps(header).encode()) + '.' +
                         b64url(json.dumps(claims).encode()))
        sig = subprocess.run(['openssl', 'dgst', '-sha256', '-sign',
                              self.key], input=signing_input.encode(),
                             stdout=subprocess.PIPE, check=True).stdout
        return signing_input + '.' + b64url(sig)


class Users:
    """Checks user/password pairs with `htpasswd -vb`, remembering results."""

    def __init__(self, path):
        self.path = path
        self.known = {}
        self.lock = threading.Lock()

    def check(self, user, password):
        with self.lock:
            if (user, password) not in self.known:
                # htpasswd wants the password as an argument; this is a
                # test server with a test password.
                r = subprocess.run(['htpasswd', '-vb', self.path, user,
                                    password], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
                self.known[(user, password)] = r.returncode == 0
            return self.known[(user, password)]


def parse_scope(scope):
    """'repository:test/busybox:pull,push' -> (type, name, [actions])."""
    type_, sep, rest = scope.partition(':')
    name, sep2, actions = rest.rpartition(':')
    if not sep or not sep2 or not type_ or not name:
        return None
    return type_, name, [a for a in actions.split(',') if a]


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = 'husk-test-token-server/1'
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):  # stderr, like an access log
        sys.stderr.write('%s - [%s] %s\n' % (
            self.client_address[0], self.log_date_time_string(), fmt % args))

    def reply(self, status, obj, extra_headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def record(self, user, scopes):
        line = '%s %s\n' % (user, ' '.join(scopes) if scopes else '-')
        with self.server.log_lock:
            with open(self.server.opts.log, 'a') as f:
                f.write(line)

    def basic_credentials(self):
        h = self.headers.get('Authorization', '')
        if not h.lower().startswith('basic '):
            return None
        try:
            raw = base64.b64decode(h[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return ('', '')
        user, _, password = raw.partition(':')
        return user, password

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != '/token':
            self.reply(404, {'errors': [{'code': 'NOT_FOUND',
                                         'message': 'try /token'}]})
            return
        q = urllib.parse.parse_qs(url.query)
        scopes = []
        for s in q.get('scope', []):
            scopes.extend(s.split(' '))
        self.issue(q.get('service', [''])[0], [s for s in scopes if s],
                   self.basic_credentials())

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get('Content-Length', '0') or 0)
        body = self.rfile.read(length).decode('utf-8', 'replace')
        if url.path != '/token':
            self.reply(404, {'errors': [{'code': 'NOT_FOUND',
                                         'message': 'try /token'}]})
            return
        form = urllib.parse.parse_qs(body)
        scopes = []
        for s in form.get('scope', []):
            scopes.extend(s.split(' '))
        creds = self.basic_credentials()
        if form.get('grant_type', [''])[0] == 'password':
            creds = (form.get('username', [''])[0],
                     form.get('password', [''])[0])
        elif form.get('grant_type', [''])[0] == 'refresh_token':
            # No refresh tokens are ever handed out.
            self.record('rejected:refresh_token', scopes)
            self.reply(401, {'errors': [{'code': 'UNAUTHORIZED',
                                         'message': 'no refresh tokens'}]})
            return
        self.issue(form.get('service', [''])[0], [s for s in scopes if s],
                   creds)

    def issue(self, service, scopes, creds):
        opts = self.server.opts
        if creds is not None:
            user, password = creds
            if not user or not self.server.users.check(user, password):
                self.record('rejected:' + (user or '?'), scopes)
                self.reply(401, {'errors': [{
                    'code': 'UNAUTHORIZED',
                    'message': 'authentication required'}]},
                    [('WWW-Authenticate',
                      'Basic realm="husk-test-token-server"')])
                return
        else:
            user = None
        self.record(user or 'anonymous', scopes)

        access = []
        for s in scopes:
            parsed = parse_scope(s)
            if parsed is None:
                continue
            type_, name, actions = parsed
            if user is None:
                actions = [a for a in actions if a == 'pull']
            access.append({'type': type_, 'name': name, 'actions': actions})

        now = int(time.time())
        lifetime = TOKEN_LIFETIME
        # A test creates LOG.expire-next to have the next token come out
        # already expired (beyond the registry's 60 s leeway) while the
        # answer still says it lasts: the client must fetch a fresh one
        # when the registry answers 401.
        try:
            os.unlink(opts.log + '.expire-next')
            lifetime = -600
        except FileNotFoundError:
            pass
        claims = {
            'iss': opts.issuer,
            'sub': user or '',
            'aud': service or opts.service,
            'exp': now + lifetime,
            'nbf': now - 10 + min(lifetime, 0) * 2,
            'iat': now,
            'jti': secrets.token_hex(16),
            'access': access,
        }
        token = self.server.signer.sign(claims)
        issued = datetime.datetime.fromtimestamp(
            now, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        self.reply(200, {'token': token, 'access_token': token,
                         'expires_in': TOKEN_LIFETIME, 'issued_at': issued})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--key', required=True)
    ap.add_argument('--cert', required=True)
    ap.add_argument('--htpasswd', required=True)
    ap.add_argument('--issuer', required=True)
    ap.add_argument('--service', default='husk-test-registry',
                    help='audience when the client sends no service')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--port-file', required=True)
    ap.add_argument('--log', required=True)
    opts = ap.parse_args()

    server = http.server.ThreadingHTTPServer(('127.0.0.1', opts.port),
                                             Handler)
    server.daemon_threads = True
    server.opts = opts
    server.signer = Signer(opts.key, opts.cert)
    server.users = Users(opts.htpasswd)
    server.log_lock = threading.Lock()
    announce_and_serve(server, opts.port_file)


if __name__ == '__main__':
    main()
