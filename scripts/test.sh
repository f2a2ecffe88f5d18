#!/usr/bin/env bash
# The test command: setup + configure + build into build/ + ctest.
# GPU tests (label `gpu`) are excluded here; scripts/gpu-check.sh runs them on a GPU host.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The sandbox tests run real programs: CI must have at least these toolchains
# (others are tested where installed, and reported as skipped otherwise).
scripts/install-toolchains.sh python c cpp javascript typescript go rust ocaml
scripts/build.sh
cd build
ctest -LE gpu --output-on-failure -j "${LOCKSTEP_JOBS:-$(nproc)}" --timeout 600
