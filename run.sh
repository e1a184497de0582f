#!/usr/bin/env bash
# The main job on the built-in default (no API keys, no GPU). Extra flags go to `vmevalkit pipeline`.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/vmevalkit pipeline "$@"
