#!/usr/bin/env bash
# Install what is needed, build, and run every test (unit, integration,
# integration under ASan+UBSan). Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec make test
