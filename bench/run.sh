#!/usr/bin/env bash
# Thin wrapper: measure bakehouse and Dagster on the same workloads (see bench/README.md).
# Usage: bash bench/run.sh [--quick] [--only NAME] [--write-docs] ...   (same options as run.py)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="${PYTHON:-python3}"
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "bench/run.sh: needs Python 3.10+ as \$PYTHON or python3" >&2
    exit 2
fi
exec "$py" "$here/run.py" "$@"
