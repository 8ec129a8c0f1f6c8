#!/usr/bin/python3
"""Push a whole OCI image layout, index included, to a plain-HTTP registry.

Usage:
  push-layout.py LAYOUT HOST:PORT/REPO:TAG

Uploads every blob of LAYOUT (monolithic POST + PUT), then every manifest
index.json lists (by digest), then index.json itself under TAG, byte for
byte, as an image index.  Prints the index digest.  For a multi-platform
image: `skopeo copy --all oci:LAYOUT:TAG` copies the manifest the tag
names, not the layout's index.  No authentication; standard library only.
"""

import hashlib
import json
import os
import sys
import urllib.parse
import urllib.request

MT_INDEX = 'application/vnd.oci.image.index.v1+json'


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip())
    layout, ref = sys.argv[1], sys.argv[2]
    host, _, rest = ref.partition('/')
    repo, _, tag = rest.rpartition(':')
    if not host or not repo or not tag:
        sys.exit('push-layout: expected HOST:PORT/REPO:TAG, got %s' % ref)
    base = 'http://%s' % host
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(method, url, data=None, ctype=None):
        if url.startswith('/'):
            url = base + url
        req = urllib.request.Request(url, data=data, method=method)
        if ctype:
            req.add_header('Content-Type', ctype)
        return opener.open(req)

    blobdir = os.path.join(layout, 'blobs', 'sha256')
    for name in sorted(os.listdir(blobdir)):
        digest = 'sha256:' + name
        try:
            call('HEAD', '/v2/%s/blobs/%s' % (repo, digest)).close()
            continue
        except urllib.error.HTTPError as e:
            if e.code != 404:
                raise
        with open(os.path.join(blobdir, name), 'rb') as f:
            data = f.read()
        r = call('POST', '/v2/%s/blobs/uploads/' % repo)
        loc = urllib.parse.urljoin(base + '/', r.headers['Location'])
        r.close()
        sep = '&' if '?' in loc else '?'
        call('PUT', loc + sep + 'digest=' + urllib.parse.quote(digest), data,
             'application/octet-stream').close()

    with open(os.path.join(layout, 'index.json'), 'rb') as f:
        index_bytes = f.read()
    index = json.loads(index_bytes)
    for m in index['manifests']:
        with open(os.path.join(blobdir, m['digest'].split(':')[1]), 'rb') as f:
            call('PUT', '/v2/%s/manifests/%s' % (repo, m['digest']), f.read(),
                 m['mediaType']).close()
    call('PUT', '/v2/%s/manifests/%s' % (repo, tag), index_bytes,
         index.get('mediaType', MT_INDEX)).close()
    print('sha256:' + hashlib.sha256(index_bytes).hexdigest())


if __name__ == '__main__':
    main()
