#!/usr/bin/python3
"""Independent reference flattener for OCI image layouts.

Usage: reference_flatten.py LAYOUT_DIR [--ref TAG] [--platform os/arch[/variant]]

Reads LAYOUT_DIR (index.json -> manifest -> layers), applies the layers in
order in an in-memory model following the OCI image-spec layer rules
(whiteouts, opaque directories, file <-> directory replacement, hard links
including links to files of lower layers) and prints a normalized, sorted
listing of the resulting tree on stdout.  Only the Python standard library
and the `zstd` command are used; nothing here shares code with husk.

Listing format, one line per path (the root itself is not listed):

    PATH TYPE MODE UID GID SIZE CONTENT [link=GROUP] [xattr:NAME=VALUE ...]

  PATH     absolute path, bytes outside printable ASCII (and space, backslash)
           escaped as \\xNN
  TYPE     dir, file, symlink, fifo, char, block, socket
  MODE     4 octal digits including setuid/setgid/sticky (symlinks: 0777)
  SIZE     byte size for regular files, '-' otherwise
  CONTENT  sha256 of regular files, '->TARGET' for symlinks,
           'dev=MAJOR,MINOR' for devices, '-' otherwise
  GROUP    for inodes with more than one path: the smallest path of the group
  xattr    one field per extended attribute, sorted; VALUE is printed as is
           when it is printable ASCII, else as 0xHEX

Directories that are implied by a path but present in no layer get
0755 0 0. Like husk, an /etc without hosts or resolv.conf gets empty ones
(the mount points every run binds on).  sqfs_listing.py imports format_listing() from this file so that
both listings are byte-for-byte comparable with diff.
"""

import argparse
import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import urllib.parse

TAR_ENCODING = 'utf-8'
TAR_ERRORS = 'surrogateescape'


class FlattenError(Exception):
    pass


class Inode:
    __slots__ = ('kind', 'mode', 'uid', 'gid', 'size', 'digest', 'target',
                 'xattrs', 'rdev')

    def __init__(self, kind, mode=0o755, uid=0, gid=0, size=0, digest=None,
                 target=None, xattrs=None, rdev=None):
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.digest = digest
        self.target = target
        self.xattrs = xattrs or {}
        self.rdev = rdev


def implied_dir():
    return Inode('dir', 0o755, 0, 0)


class Tree:
    """Path -> Inode map with a children index.  Paths are relative, no
    leading slash; '' is the root.  Hard links share one Inode object."""

    def __init__(self):
        self.entries = {'': implied_dir()}
        self.children = {'': set()}

    def get(self, path):
        return self.entries.get(path)

    def remove(self, path):
        node = self.entries.get(path)
        if node is None or path == '':
            return
        if node.kind == 'dir':
            for child in list(self.children.get(path, ())):
                self.remove(path + '/' + child)
            self.children.pop(path, None)
        del self.entries[path]
        parent, _, name = path.rpartition('/')
        self.children[parent].discard(name)

    def remove_children(self, path):
        for child in list(self.children.get(path, ())):
            self.remove(path + '/' + child)

    def ensure_parents(self, path):
        parts = path.split('/')[:-1]
        cur = ''
        for part in parts:
            nxt = part if cur == '' else cur + '/' + part
            node = self.entries.get(nxt)
            if node is None or node.kind != 'dir':
                if node is not None:
                    print('reference_flatten: warning: %s replaced by an '
                          'implied directory' % nxt, file=sys.stderr)
                    self.remove(nxt)
                self._insert(nxt, implied_dir())
            cur = nxt

    def _insert(self, path, node):
        self.entries[path] = node
        if node.kind == 'dir':
            self.children.setdefault(path, set())
        parent, _, name = path.rpartition('/')
        self.children[parent].add(name)

    def put(self, path, node):
        """Create or replace PATH.  A directory over a directory keeps the
        children and takes the new metadata; anything else replaces the
        old entry (and its subtree) entirely."""
        if path == '':
            if node.kind != 'dir':
                raise FlattenError('non-directory entry for the image root')
            old = self.entries['']
            old.mode, old.uid, old.gid, old.xattrs = (node.mode, node.uid,
                                                      node.gid, node.xattrs)
            return
        self.ensure_parents(path)
        old = self.entries.get(path)
        if old is not None:
            if old.kind == 'dir' and node.kind == 'dir':
                old.mode, old.uid, old.gid, old.xattrs = (
                    node.mode, node.uid, node.gid, node.xattrs)
                return
            self.remove(path)
        self._insert(path, node)


def clean_path(name, what='entry'):
    """Normalize a tar member name to a root-relative path.  Any '..' that
    would climb above the root (also after a leading '/') is an error."""
    parts = []
    for p in name.split('/'):
        if p in ('', '.'):
            continue
        if p == '..':
            if not parts:
                raise FlattenError('%s %r escapes the image root' % (what, name))
            parts.pop()
        else:
            parts.append(p)
    return '/'.join(parts)


def tar_xattrs(ti):
    out = {}
    for key, value in ti.pax_headers.items():
        raw = value.encode(TAR_ENCODING, TAR_ERRORS)
        if key.startswith('SCHILY.xattr.'):
            out[key[len('SCHILY.xattr.'):]] = raw
        elif key.startswith('LIBARCHIVE.xattr.'):
            name = urllib.parse.unquote(key[len('LIBARCHIVE.xattr.'):])
            out[name] = base64.b64decode(raw + b'=' * (-len(raw) % 4))
    return out


def hash_member(tf, ti):
    h = hashlib.sha256()
    size = 0
    f = tf.extractfile(ti)
    if f is not None:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def inode_from_tarinfo(tf, ti):
    """Build an Inode (or a ('hardlink', target) marker) from a member."""
    mode = ti.mode & 0o7777
    xattrs = tar_xattrs(ti)
    if ti.islnk():
        return ('hardlink', ti.linkname)
    if ti.isreg():
        digest, size = hash_member(tf, ti)
        return Inode('file', mode, ti.uid, ti.gid, size, digest, xattrs=xattrs)
    if ti.isdir():
        return Inode('dir', mode, ti.uid, ti.gid, xattrs=xattrs)
    if ti.issym():
        return Inode('symlink', 0o777, ti.uid, ti.gid, target=ti.linkname,
                     xattrs=xattrs)
    if ti.isfifo():
        return Inode('fifo', mode, ti.uid, ti.gid, xattrs=xattrs)
    if ti.ischr():
        return Inode('char', mode, ti.uid, ti.gid, xattrs=xattrs,
                     rdev=(ti.devmajor, ti.devminor))
    if ti.isblk():
        return Inode('block', mode, ti.uid, ti.gid, xattrs=xattrs,
                     rdev=(ti.devmajor, ti.devminor))
    return None


WH = '.wh.'
OPQ = '.wh..wh..opq'


def apply_layer(tree, tf):
    """Apply one layer (an open streaming tarfile) to TREE."""
    whiteouts = []   # (kind, path)
    additions = []   # (path, inode-or-marker)
    for ti in tf:
        path = clean_path(ti.name)
        parent, _, base = path.rpartition('/')
        if base == OPQ:
            whiteouts.append(('opaque', parent))
            continue
        if base.startswith(WH + WH):
            continue  # other AUFS metadata: ignored
        if base.startswith(WH):
            victim = base[len(WH):]
            if victim in ('', '.', '..'):
                raise FlattenError('whiteout %r escapes the image root'
                                   % ti.name)
            whiteouts.append(('file', parent + '/' + victim if parent
                              else victim))
            continue
        node = inode_from_tarinfo(tf, ti)
        if node is None:
            print('reference_flatten: warning: skipping %r (tar type %r)'
                  % (ti.name, ti.type), file=sys.stderr)
            continue
        additions.append((path, node))
    # Whiteouts only hide what lower layers provided, so they go first.
    for kind, path in whiteouts:
        if kind == 'opaque':
            node = tree.get(path)
            if node is not None and node.kind == 'dir':
                tree.remove_children(path)
        else:
            tree.remove(path)
    for path, node in additions:
        if isinstance(node, tuple):
            target = clean_path(node[1], 'hard link target')
            tnode = tree.get(target)
            if tnode is None or target == '':
                raise FlattenError('hard link %r: target %r is missing'
                                   % (path, node[1]))
            if tnode.kind == 'dir':
                raise FlattenError('hard link %r to directory %r'
                                   % (path, node[1]))
            if path == target:
                continue
            tree.put(path, tnode)
        else:
            tree.put(path, node)


# ---------------------------------------------------------------- layout --

def blob_path(layout, digest):
    algo, _, hexd = digest.partition(':')
    return os.path.join(layout, 'blobs', algo, hexd)


def verify_blob(layout, desc):
    path = blob_path(layout, desc['digest'])
    algo, _, want = desc['digest'].partition(':')
    if algo != 'sha256':
        raise FlattenError('unsupported digest algorithm %r' % algo)
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    if h.hexdigest() != want:
        raise FlattenError('digest mismatch for %s' % desc['digest'])
    return path


def read_json_blob(layout, desc):
    with open(verify_blob(layout, desc), 'rb') as f:
        return json.load(f)


INDEX_TYPES = ('application/vnd.oci.image.index.v1+json',
               'application/vnd.docker.distribution.manifest.list.v2+json')
MANIFEST_TYPES = ('application/vnd.oci.image.manifest.v1+json',
                  'application/vnd.docker.distribution.manifest.v2+json')


def platform_of(layout, desc):
    p = desc.get('platform')
    if p:
        return p
    try:
        manifest = read_json_blob(layout, desc)
        cfg = read_json_blob(layout, manifest['config'])
        return {'os': cfg.get('os'), 'architecture': cfg.get('architecture'),
                'variant': cfg.get('variant')}
    except (OSError, KeyError, ValueError, FlattenError):
        return {}


def platform_matches(p, want):
    os_, arch, *rest = want.split('/')
    if p.get('os') != os_ or p.get('architecture') != arch:
        return False
    if rest and p.get('variant') and p.get('variant') != rest[0]:
        return False
    return True


def select_manifest(layout, index, want, ref):
    cands = index.get('manifests', [])
    if ref is not None:
        cands = [d for d in cands if d.get('annotations', {}).get(
            'org.opencontainers.image.ref.name') == ref]
        if not cands:
            raise FlattenError('no manifest tagged %r' % ref)
    flat = []
    for d in cands:
        if d.get('mediaType') in INDEX_TYPES:
            sub = read_json_blob(layout, d)
            flat.extend(sub.get('manifests', []))
        else:
            flat.append(d)
    flat = [d for d in flat if d.get('mediaType', MANIFEST_TYPES[0])
            in MANIFEST_TYPES]
    if len(flat) == 1 and 'platform' not in flat[0] and want is None:
        return flat[0]
    want = want or 'linux/amd64'
    for d in flat:
        if platform_matches(platform_of(layout, d), want):
            return d
    raise FlattenError('no manifest for platform %s' % want)


def open_layer(path, media_type):
    """Return (fileobj, process-or-None) yielding the uncompressed tar."""
    mt = media_type
    if mt.endswith('+gzip') or mt.endswith('.tar.gzip'):
        return gzip.GzipFile(filename=path, mode='rb'), None
    if mt.endswith('+zstd'):
        proc = subprocess.Popen(['zstd', '-q', '-dc', '--', path],
                                stdout=subprocess.PIPE)
        return proc.stdout, proc
    if mt.endswith('.tar') or mt.endswith('.rootfs.diff.tar'):
        return open(path, 'rb'), None
    raise FlattenError('unsupported media type %r' % media_type)


def flatten_layout(layout, platform=None, ref=None):
    with open(os.path.join(layout, 'index.json'), 'rb') as f:
        index = json.load(f)
    desc = select_manifest(layout, index, platform, ref)
    manifest = read_json_blob(layout, desc)
    if manifest.get('mediaType', desc.get('mediaType')) not in MANIFEST_TYPES:
        raise FlattenError('unsupported media type %r'
                           % manifest.get('mediaType'))
    tree = Tree()
    for layer in manifest['layers']:
        path = verify_blob(layout, layer)
        fobj, proc = open_layer(path, layer['mediaType'])
        try:
            with tarfile.open(fileobj=fobj, mode='r|', encoding=TAR_ENCODING,
                              errors=TAR_ERRORS) as tf:
                apply_layer(tree, tf)
            # Drain any trailing data (zero blocks) so zstd exits cleanly.
            while fobj.read(1 << 20):
                pass
        finally:
            fobj.close()
            if proc is not None and proc.wait() != 0:
                raise FlattenError('zstd failed on %s' % layer['digest'])
    add_run_mount_points(tree)
    return tree


def add_run_mount_points(tree):
    """What husk adds to every image it converts: each run binds the host's
    /etc/hosts and /etc/resolv.conf, so an image whose /etc lacks them gets
    empty ones (root's, 0644); whatever the layers put there stays."""
    etc = tree.get('etc')
    if etc is None or etc.kind != 'dir':
        return
    for name in ('hosts', 'resolv.conf'):
        if tree.get('etc/' + name) is None:
            tree.put('etc/' + name, Inode('file', 0o644, 0, 0, 0,
                                          hashlib.sha256(b'').hexdigest()))


# --------------------------------------------------------------- listing --

def esc(s):
    raw = s.encode(TAR_ENCODING, TAR_ERRORS) if isinstance(s, str) else s
    out = []
    for b in raw:
        if 0x21 <= b <= 0x7e and b != 0x5c:
            out.append(chr(b))
        else:
            out.append('\\x%02x' % b)
    return ''.join(out)


def fmt_xattr(name, value):
    if value and all(0x21 <= b <= 0x7e and b != 0x5c for b in value):
        v = value.decode('ascii')
    else:
        v = '0x' + value.hex()
    return 'xattr:%s=%s' % (esc(name), v)


def format_listing(tree, exclude=()):
    """Return the listing lines for TREE (a Tree).  Paths equal to or below
    any root-relative path in EXCLUDE are left out."""
    def excluded(p):
        return any(p == e or p.startswith(e + '/') for e in exclude)

    paths = [p for p in tree.entries if p != '' and not excluded(p)]
    groups = {}
    for p in paths:
        groups.setdefault(id(tree.entries[p]), []).append('/' + esc(p))
    lines = []
    for p in paths:
        n = tree.entries[p]
        epath = '/' + esc(p)
        size, content = '-', '-'
        if n.kind == 'file':
            size, content = str(n.size), n.digest
        elif n.kind == 'symlink':
            content = '->' + esc(n.target)
        elif n.kind in ('char', 'block'):
            content = 'dev=%d,%d' % n.rdev
        fields = [epath, n.kind, '%04o' % n.mode, str(n.uid), str(n.gid),
                  size, content]
        group = groups[id(n)]
        if len(group) > 1:
            fields.append('link=' + min(group))
        for name in sorted(n.xattrs):
            fields.append(fmt_xattr(name, n.xattrs[name]))
        lines.append((epath, ' '.join(fields)))
    lines.sort()
    return [l for _, l in lines]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('layout')
    ap.add_argument('--ref', help='ref name (org.opencontainers.image.'
                    'ref.name annotation) to select')
    ap.add_argument('--platform', help='os/arch[/variant], default '
                    'linux/amd64 when the index has several manifests')
    args = ap.parse_args(argv)
    try:
        tree = flatten_layout(args.layout, args.platform, args.ref)
    except (FlattenError, OSError, ValueError, KeyError, EOFError,
            tarfile.TarError) as e:
        print('reference_flatten: error: %s' % e, file=sys.stderr)
        return 1
    out = sys.stdout
    for line in format_listing(tree):
        out.write(line + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
