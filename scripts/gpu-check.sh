#!/usr/bin/env bash
# Runs the GPU tests (ctest label `gpu`, the gpu_tests binary) and the CUDA GEMM benchmark
# on a host with an NVIDIA GPU, and writes one summary. CI has no GPU and never runs this;
# scripts/test.sh excludes the label.
#
#   scripts/gpu-check.sh             configure + build build-cuda/ (gpu_tests,
#                                    gemm_invariance_bench, lockstep, decode_throughput_bench),
#                                    then test and bench
#   scripts/gpu-check.sh --bundle    build, then pack the binaries (stripped) and the
#                                    non-system shared libraries they need (Abseil, GoogleTest,
#                                    ZeroMQ, ICU, ...) into gpu-bundle/bundle.tar.xz (~20 MB),
#                                    small enough to copy to a GPU host that has none of them
#                                    (cuBLASLt comes from the host's CUDA)
#   scripts/gpu-check.sh --prebuilt  test and bench gpu-bundle/ (unpacked here if only the
#                                    tarball is there) or else an existing build-cuda/
#
# LOCKSTEP_GPU_BUILD_DIR overrides build-cuda; LOCKSTEP_JOBS caps build parallelism;
# LOCKSTEP_GPU_OUT (default <build>/gpu-check-out) receives gpu_tests.log, gemm_bench.log,
# gemm_bench.csv and summary.txt; LOCKSTEP_GPU_BENCH_ARGS (default "--sweep") goes to the
# benchmark, LOCKSTEP_GPU_BENCH=0 skips it. LOCKSTEP_GPU_VERIFY=1 also runs
# `lockstep verify --backend cuda --dtype both` on the Qwen2-0.5B shape (and its negative
# control); LOCKSTEP_GPU_DECODE=1 runs decode_throughput_bench and scripts/hf-decode-bench.py
# (the Hugging Face baseline) in the same call; LOCKSTEP_GPU_HF_PARITY=1 runs
# scripts/hf-parity.py (lockstep vs transformers on random HF checkpoints). LOCKSTEP_GPU_GRPO=1
# runs the quick-start GRPO job (LOCKSTEP_GPU_GRPO_STEPS steps, default 60) with its rollout
# engine on the GPU (rollout.device = cuda; the trainer is on the CPU, so rollout and trainer
# agree within the CPU<->GPU tolerance, not bit for bit) and, as its baseline, on the CPU.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${LOCKSTEP_GPU_BUILD_DIR:-build-cuda}
mode=${1:-build}
binaries=(gpu_tests gemm_invariance_bench small_m_gemm_bench lockstep lockstep-rollout lockstep-trainer
  decode_throughput_bench hf_parity_tool)
bundle=gpu-bundle

case "$mode" in
  build | --bundle)
    if ! command -v nvcc >/dev/null && [[ ! -x /usr/local/cuda/bin/nvcc ]]; then
      echo "gpu-check: nvcc not found; install the CUDA toolkit (13.0) or use --prebuilt" >&2
      exit 1
    fi
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release || exit 1
    cmake --build "$build" --target "${binaries[@]}" -j "${LOCKSTEP_JOBS:-$(nproc)}" || exit 1
    if [[ $mode == --bundle ]]; then
      staging=$(mktemp -d)
      mkdir -p "$staging/bin" "$staging/runtime-libs"
      cp "${binaries[@]/#/$build/bin/}" "$staging/bin/"
      # Everything but the C library family and the CUDA libraries the GPU host has.
      for b in "${binaries[@]}"; do ldd "$build/bin/$b"; done | awk '/=> \// {print $3}' |
        grep -vE '/(libc|libm|libpthread|libdl|librt|libgcc_s|ld-linux[^/]*)\.so|libcuda|libcublas|libcudart|libnvidia' |
        sort -u | xargs -r cp -L -t "$staging/runtime-libs/"
      strip --strip-unneeded "$staging/runtime-libs/"* "$staging/bin/"* 2>/dev/null || true
      rm -rf "$bundle" && mkdir -p "$bundle"
      tar -C "$staging" -cJf "$bundle/bundle.tar.xz" bin runtime-libs || exit 1
      rm -rf "$staging"
      echo "gpu-check: packed ${#binaries[@]} binaries and their libraries into" \
        "$bundle/bundle.tar.xz ($(du -h "$bundle/bundle.tar.xz" | cut -f1)); on the GPU host:" \
        "scripts/gpu-check.sh --prebuilt"
      exit 0
    fi
    ;;
  --prebuilt)
    if [[ -f $bundle/bundle.tar.xz && ! -x $bundle/bin/gpu_tests ]]; then
      tar -C "$bundle" -xJf "$bundle/bundle.tar.xz" || exit 1
    fi
    [[ -x $bundle/bin/gpu_tests ]] && build=$bundle
    ;;
  *)
    echo "gpu-check: unknown argument '$mode' (expected --bundle or --prebuilt)" >&2
    exit 2
    ;;
esac

if [[ ! -x $build/bin/gpu_tests ]]; then
  echo "gpu-check: $build/bin/gpu_tests is missing; run scripts/gpu-check.sh without --prebuilt" >&2
  exit 1
fi
out=${LOCKSTEP_GPU_OUT:-$build/gpu-check-out}
mkdir -p "$out"
if [[ -d $build/runtime-libs ]]; then
  export LD_LIBRARY_PATH="$root/$build/runtime-libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# cuBLASLt is linked dynamically (the static library is ~0.5 GB): find the GPU host's copy
# if the loader does not (a CUDA toolkit elsewhere, or the nvidia-cublas Python wheel).
if ldd "$build/bin/gpu_tests" | grep -q 'libcublasLt.*not found'; then
  lt=$(find /usr/local /opt /usr/lib -name 'libcublasLt.so.13' 2>/dev/null | head -1)
  [[ -n $lt ]] && export LD_LIBRARY_PATH="$(dirname "$lt"):$LD_LIBRARY_PATH"
fi
# Without a GPU the tests would skip; here that is a failure.
export LOCKSTEP_REQUIRE_GPU=1
{
  echo "gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  command -v nvidia-smi >/dev/null && nvidia-smi -L
} | tee "$out/summary.txt"

configured_in=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
if [[ $configured_in == "$root" ]]; then
  (cd "$build" && ctest -L gpu --output-on-failure) 2>&1 | tee "$out/gpu_tests.log"
else
  # ctest's files hold absolute paths of the host that configured the build.
  echo "gpu-check: $build was configured in '$configured_in', not here; running gpu_tests directly"
  "$build/bin/gpu_tests" 2>&1 | tee "$out/gpu_tests.log"
fi
tests_rc=${PIPESTATUS[0]}
grep -E '^\[  (PASSED|FAILED|SKIPPED) |tests? from .* ran|tests passed|tests failed' \
  "$out/gpu_tests.log" | tee -a "$out/summary.txt"

bench_rc=0
if [[ ${LOCKSTEP_GPU_BENCH:-1} != 0 && -x $build/bin/gemm_invariance_bench ]]; then
  # shellcheck disable=SC2086  # the arguments are meant to split
  "$build/bin/gemm_invariance_bench" ${LOCKSTEP_GPU_BENCH_ARGS:---sweep} \
    --csv "$out/gemm_bench.csv" 2>&1 | tee "$out/gemm_bench.log"
  bench_rc=${PIPESTATUS[0]}
  grep -E '^device|WORST|FALLBACK|no plan' "$out/gemm_bench.log" | tee -a "$out/summary.txt"
fi
verify_rc=0
if [[ ${LOCKSTEP_GPU_VERIFY:-0} == 1 ]]; then
  # >= 100k sampled tokens per schedule on the Qwen2-0.5B shape, four batch schedules...
  big_args=${LOCKSTEP_GPU_VERIFY_ARGS:-"--sequences 400 --max-new-tokens 256 --schedules all-at-once,max-batch-100,random-arrival-64,max-batch-37"}
  # shellcheck disable=SC2086
  "$build/bin/lockstep" verify --backend cuda --dtype both --model-shape qwen2-0.5b $big_args \
    >"$out/verify_cuda.txt" 2>&1
  verify_rc=$?
  # ...the four default schedules (one sequence at a time included) on a smaller run...
  "$build/bin/lockstep" verify --backend cuda --dtype both --model-shape qwen2-0.5b \
    --sequences 24 --max-new-tokens 48 >"$out/verify_cuda_default_schedules.txt" 2>&1
  [[ $? == 0 ]] || verify_rc=1
  grep -E '^backend|PASS|FAIL' "$out/verify_cuda.txt" "$out/verify_cuda_default_schedules.txt" |
    tee -a "$out/summary.txt"
  # ...and the negative control: `fast` mode (cuBLASLt's heuristic per M) must NOT be equal.
  control_args=${LOCKSTEP_GPU_CONTROL_ARGS:-"--sequences 100 --max-new-tokens 128 --schedules all-at-once,max-batch-37"}
  # shellcheck disable=SC2086
  "$build/bin/lockstep" verify --backend cuda --dtype bf16 --model-shape qwen2-0.5b --mode fast \
    $control_args >"$out/verify_cuda_fast.txt" 2>&1
  control_rc=$?
  grep -E '^backend|bitwise_equal_fraction|PASS|FAIL' "$out/verify_cuda_fast.txt" |
    tee -a "$out/summary.txt"
  if [[ $control_rc == 1 ]]; then
    echo "gpu-check: fast-mode control is not bitwise equal, as it must not be" |
      tee -a "$out/summary.txt"
  else
    echo "gpu-check: fast-mode control exit $control_rc (expected 1: not bitwise)" |
      tee -a "$out/summary.txt"
    verify_rc=1
  fi
fi
decode_rc=0
if [[ ${LOCKSTEP_GPU_DECODE:-0} == 1 ]]; then
  # Decode tokens/s at batch 1, 64, 256 and prefill tokens/s of 512-token prompts at batch
  # 1, 8, 32 (median of 5 after a warm-up), lockstep invariant and fast mode, then Hugging
  # Face on the same GPU with the same defaults; summary.txt gets one table of each.
  # LOCKSTEP_GPU_DECODE_ARGS goes to decode_throughput_bench, LOCKSTEP_GPU_HF_DECODE_ARGS to
  # scripts/hf-decode-bench.py (change both alike: the tables say NOT COMPARABLE otherwise).
  # shellcheck disable=SC2086  # the arguments are meant to split
  "$build/bin/decode_throughput_bench" --device cuda ${LOCKSTEP_GPU_DECODE_ARGS:-} \
    --json "$out/decode_lockstep.json" 2>&1 | tee "$out/decode_lockstep.log"
  decode_rc=${PIPESTATUS[0]}
  # shellcheck disable=SC2086
  python3 scripts/hf-decode-bench.py ${LOCKSTEP_GPU_HF_DECODE_ARGS:-} \
    --out "$out/decode_hf.json" 2>&1 | tee "$out/decode_hf.log"
  hf_decode_rc=${PIPESTATUS[0]}
  grep -hE 'batch|FAILED' "$out/decode_lockstep.log" "$out/decode_hf.log" |
    tee -a "$out/summary.txt"
  python3 scripts/hf-decode-bench.py --summarize "$out/decode_lockstep.json" \
    "$out/decode_hf.json" 2>&1 | tee -a "$out/summary.txt"
  echo "gpu-check: decode_throughput_bench exit $decode_rc, hf-decode-bench exit $hf_decode_rc" |
    tee -a "$out/summary.txt"
  [[ $hf_decode_rc == 0 ]] || decode_rc=1  # a missing baseline is a failed comparison
fi
parity_rc=0
if [[ ${LOCKSTEP_GPU_HF_PARITY:-0} == 1 ]]; then
  # lockstep vs transformers on random Llama / Qwen2 / Qwen3 checkpoints (issue 13).
  python3 scripts/hf-parity.py --tool "$build/bin/hf_parity_tool" --work "$out/hf-parity" \
    >"$out/hf_parity.log" 2>&1
  parity_rc=$?
  tail -15 "$out/hf_parity.log" | tee -a "$out/summary.txt"
fi
grpo_rc=0
if [[ ${LOCKSTEP_GPU_GRPO:-0} == 1 ]]; then
  for device in cuda cpu; do
    "$build/bin/lockstep" grpo configs/quickstart.toml --set rollout.device=$device \
      --set train.steps="${LOCKSTEP_GPU_GRPO_STEPS:-60}" --set train.checkpoint_every=30 \
      --out "$out/grpo-rollout-$device" >"$out/grpo_rollout_$device.log" 2>&1 || grpo_rc=1
    echo "grpo, rollout on $device:" | tee -a "$out/summary.txt"
    grep -E '^(steps|reward|greedy|rollout ==)|error' "$out/grpo_rollout_$device.log" |
      tee -a "$out/summary.txt"
  done
fi
echo "gpu-check: gpu_tests exit $tests_rc, gemm_invariance_bench exit $bench_rc," \
  "verify exit $verify_rc, decode bench exit $decode_rc, hf parity exit $parity_rc," \
  "grpo exit $grpo_rc" |
  tee -a "$out/summary.txt"
[[ $tests_rc == 0 && $bench_rc == 0 && $verify_rc == 0 && $decode_rc == 0 && $parity_rc == 0 &&
  $grpo_rc == 0 ]]
