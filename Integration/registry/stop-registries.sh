#!/usr/bin/env bash
# Stops the registries and token server start-registries.sh started in W.
# Usage: Integration/registry/stop-registries.sh W
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 W" >&2; exit 2; }
# shellcheck source=start-registries.sh
. "$(dirname "${BASH_SOURCE[0]}")/start-registries.sh"
stop_registries "$1"
