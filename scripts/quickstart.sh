#!/usr/bin/env bash
# Quick start: setup + build + the main job on its embedded default (no downloads).
# Until the GRPO job exists, the main job is `lockstep verify`, which proves the
# numerics contract: rollout and trainer log-probabilities are bitwise equal.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cat <<'TXT'

== lockstep verify ==========================================================
A seeded random Llama/Qwen-style model (GQA) generates sequences of mixed prompt
lengths under four batch schedules (one at a time, all at once, random arrival
under continuous batching, small maximum batch). Every sampled token's
log-probability is then recomputed by the trainer-side full-sequence forward.
lockstep's promise holds if every one of them is bitwise equal, and if every
schedule sampled the same tokens.
=============================================================================
TXT
build/bin/lockstep verify --backend cpu --dtype both
