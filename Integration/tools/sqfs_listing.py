#!/usr/bin/python3
"""Listing of a squashfs image, in the format of reference_flatten.py.

Usage: sqfs_listing.py IMAGE.sqsh [--keep-husk]

The image is read with `sqfs2tar` (squashfs-tools-ng), whose tar stream is
parsed with Python's tarfile; nothing of husk's code is used.  sqfs2tar
writes every hard-linked inode once as a regular member and the other
paths as tar hard links to the first one, and writes extended attributes
as SCHILY.xattr.* pax records on the first member only: both are mapped
back onto one shared inode here.  Without `-r`, sqfs2tar drops the root
inode's metadata, which is fine because the listing leaves the root out.
/.husk (husk's metadata directory) is excluded unless --keep-husk.
"""

import argparse
import os
import subprocess
import sys
import tarfile

sys.dont_write_bytecode = True  # no __pycache__ beside the tools
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_flatten as rf  # noqa: E402  (listing format only)


def read_squashfs(image):
    tree = rf.Tree()
    proc = subprocess.Popen(['sqfs2tar', '--no-skip', image],
                            stdout=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=proc.stdout, mode='r|',
                          encoding=rf.TAR_ENCODING,
                          errors=rf.TAR_ERRORS) as tf:
            for ti in tf:
                path = rf.clean_path(ti.name)
                node = rf.inode_from_tarinfo(tf, ti)
                if node is None:
                    raise rf.FlattenError('unexpected tar member %r type %r'
                                          % (ti.name, ti.type))
                if isinstance(node, tuple):
                    target = rf.clean_path(node[1], 'hard link target')
                    tnode = tree.get(target)
                    if tnode is None:
                        raise rf.FlattenError('hard link %r to unknown %r'
                                              % (ti.name, node[1]))
                    node = tnode
                if path in tree.entries and path != '':
                    raise rf.FlattenError('duplicate path %r' % ti.name)
                tree.put(path, node)
        while proc.stdout.read(1 << 20):
            pass
    finally:
        proc.stdout.close()
        rc = proc.wait()
    if rc != 0:
        raise rf.FlattenError('sqfs2tar exited with status %d' % rc)
    return tree


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('image')
    ap.add_argument('--keep-husk', action='store_true',
                    help='do not exclude /.husk')
    args = ap.parse_args(argv)
    try:
        tree = read_squashfs(args.image)
    except (rf.FlattenError, OSError, tarfile.TarError) as e:
        print('sqfs_listing: error: %s' % e, file=sys.stderr)
        return 1
    exclude = () if args.keep_husk else ('.husk',)
    for line in rf.format_listing(tree, exclude=exclude):
        sys.stdout.write(line + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
