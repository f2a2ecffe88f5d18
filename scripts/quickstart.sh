#!/usr/bin/env bash
# Quick start: setup + build + the main job on its embedded default (no downloads):
# a GRPO job (configs/quickstart.toml) in separate processes — a trainer, a
# rollout engine, weights over ZeroMQ — that trains a tiny base model lockstep
# pretrained itself (data/models/arithmetic-base) to add 2-digit numbers, with
# every rollout log-probability recomputed bit for bit by the trainer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
out=${LOCKSTEP_QUICKSTART_OUT:-runs/quickstart-$(date -u +%Y%m%d-%H%M%S)}
cat <<TXT

== lockstep grpo configs/quickstart.toml =====================================
GRPO on 2-digit addition (reward: the exact sum), 600 steps of 32 prompts x 8
samples, from a base model that gets ~42 % of held-out sums right greedily.
One line per step: mean reward, the PPO KL, and how many of the rollout's token
log-probabilities the trainer recomputed bit for bit (lockstep's promise: all).
Run directory: $out
==============================================================================
TXT
build/bin/lockstep grpo configs/quickstart.toml --out "$out"
cat <<TXT

Open $out/report.html in a browser for the plots and sampled completions.
Next: build/bin/lockstep grpo configs/grpo-programs.toml   (rewards judged in the sandbox)
      build/bin/lockstep verify --dtype both                 (the numerics contract alone)
TXT
