"""Shared by the test servers here: announce the port, then serve."""

import os


def announce_and_serve(server, port_file):
    """Writes the listening port to port_file (atomically, so a waiting
    script never reads half a number), then serves until interrupted."""
    tmp = port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % server.server_address[1])
    os.rename(tmp, port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
