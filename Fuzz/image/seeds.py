#!/usr/bin/python3
"""Write a small seed corpus for the fuzz-image target from valid images.

Usage: seeds.py OUTDIR IMAGE...

For each IMAGE (a valid squashfs file) OUTDIR gets the image itself and
damaged copies of it, each one a way real or crafted files go wrong:
truncations (interrupted copies) at the superblock, in the data and in
the tables; single-byte flips in the superblock fields; and flips in
the inode, directory, fragment, id and xattr tables at the end. The fuzzer
starts from these, so it reaches the table readers at once instead of
spending its time rediscovering the format. About 16 files per image.
"""

import os
import struct
import sys

SUPERBLOCK = struct.Struct('<IIIIIHHHHHHQQQQQQQQ')
FIELDS = ('magic inode_count mtime block_size fragment_count compression block_log flags '
          'id_count version_major version_minor root_inode bytes_used id_table xattr_table '
          'inode_table directory_table fragment_table export_table').split()
ABSENT = 0xFFFFFFFFFFFFFFFF


def superblock(data):
    return dict(zip(FIELDS, SUPERBLOCK.unpack_from(data)))


def flipped(data, offset, mask=0xFF):
    out = bytearray(data)
    out[offset] ^= mask
    return bytes(out)


def seeds(name, data):
    sb = superblock(data)
    tables = {key: sb[key] for key in ('inode_table', 'directory_table', 'fragment_table',
                                       'id_table', 'xattr_table', 'export_table')
              if sb[key] != ABSENT and sb[key] < len(data)}
    yield name, data
    cuts = {96, len(data) // 2, sb['bytes_used'] - 1, tables['inode_table'], tables['id_table']}
    for cut in sorted(c for c in cuts if 0 < c < len(data)):
        yield f'{name}.cut-{cut}', data[:cut]
    # Superblock: block size, bytes_used, root inode and two table pointers.
    for field, offset in (('block_size', 14), ('bytes_used', 41), ('root_inode', 34),
                          ('id_table', 48), ('directory_table', 72)):
        yield f'{name}.flip-{field}', flipped(data, offset)
    # Inside each table: a metadata block header or an index entry.
    for table, start in sorted(tables.items()):
        yield f'{name}.flip-{table}', flipped(data, start + 9 if start + 9 < len(data) else start, 0x40)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    count = 0
    for image in sys.argv[2:]:
        with open(image, 'rb') as f:
            data = f.read()
        for name, content in seeds(os.path.basename(image), data):
            with open(os.path.join(out, name), 'wb') as f:
                f.write(content)
            count += 1
    print(f'{count} seeds in {out}')


if __name__ == '__main__':
    main()
