#!/usr/bin/python3
"""Validate an SBOM against its official JSON schema, offline.

Usage: validate_sbom.py SCHEMAS FORMAT FILE

SCHEMAS is a directory holding the schemas as PyPI's lib4sbom ships them
(spdx/2.3-schema.json; cyclonedx/bom-1.5.schema.json with the
spdx.schema.json and jsf-0.82.schema.json it refers to). FORMAT is
spdx-json or cyclonedx-json. Exits 0 when FILE is valid, else prints every
error (path and message) and exits 1. Uses Debian's python3-jsonschema.
"""
import json
import os
import sys

import jsonschema


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    schemas, fmt, path = sys.argv[1:]
    with open(path) as f:
        document = json.load(f)
    if fmt == 'spdx-json':
        schema_file = os.path.join(schemas, 'spdx', '2.3-schema.json')
    elif fmt == 'cyclonedx-json':
        schema_file = os.path.join(schemas, 'cyclonedx', 'bom-1.5.schema.json')
    else:
        sys.exit('unknown format %s' % fmt)
    with open(schema_file) as f:
        schema = json.load(f)
    # The CycloneDX schema refers to its siblings by URL: serve them from disk.
    store = {}
    for name in ('spdx.schema.json', 'jsf-0.82.schema.json'):
        sibling = os.path.join(schemas, 'cyclonedx', name)
        with open(sibling) as f:
            store['http://cyclonedx.org/schema/' + name] = json.load(f)
    resolver = jsonschema.RefResolver.from_schema(schema, store=store)
    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema, resolver=resolver, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    for error in errors:
        print('%s: %s' % ('/'.join(str(p) for p in error.path) or '(document)', error.message))
    sys.exit(1 if errors else 0)


if __name__ == '__main__':
    main()
