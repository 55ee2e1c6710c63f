#!/usr/bin/env bash
# Build Tern and start ternd on ./var in development mode (loopback,
# development ports). The first start creates the data root and prints the
# admin password unless TERN_ADMIN_PASSWORD is set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
make -j"$(nproc)"
exec ./build/ternd --root ./var --dev "$@"
