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
if build/bin/lockstep verify --backend cpu --dtype both; then
  cat <<'TXT'

What this proved: for FP16 and for BF16, the trainer's full-sequence forward
recomputed every log-probability the rollout engine recorded with exactly the
same bits, whichever batch schedule generated it. An RL step on these samples
starts exactly on-policy (importance ratio 1, nothing clipped).
For contrast, the usual setup (an fp32 trainer against a bf16 rollout):
  build/bin/lockstep verify --dtype bf16 --trainer-dtype fp32
Next: build/bin/lockstep pretrain configs/pretrain-arithmetic.toml
TXT
else
  echo "lockstep verify FAILED: rollout and trainer disagree (see the table above)." >&2
  exit 1
fi
