#!/usr/bin/env bash
# The test command: setup + configure + build into build/ + ctest.
# GPU tests (label `gpu`) are excluded here; scripts/gpu-check.sh runs them on a GPU host.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd build
ctest -LE gpu --output-on-failure -j "${LOCKSTEP_JOBS:-$(nproc)}" --timeout 600
