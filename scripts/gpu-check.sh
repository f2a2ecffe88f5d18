#!/usr/bin/env bash
# Runs the GPU tests (ctest label `gpu`, the gpu_tests binary) on a host with an
# NVIDIA GPU. CI has no GPU and never runs this; scripts/test.sh excludes the label.
#
#   scripts/gpu-check.sh             configure + build build-cuda/ (gpu_tests only), then test
#   scripts/gpu-check.sh --bundle    build, then copy the non-system shared libraries gpu_tests
#                                    needs (Abseil, GoogleTest) into build-cuda/runtime-libs/,
#                                    so the build dir can be copied to a GPU host without them
#   scripts/gpu-check.sh --prebuilt  test an existing build-cuda/ (built here or copied here)
#
# LOCKSTEP_GPU_BUILD_DIR overrides build-cuda; LOCKSTEP_JOBS caps build parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${LOCKSTEP_GPU_BUILD_DIR:-build-cuda}
mode=${1:-build}

case "$mode" in
  build | --bundle)
    if ! command -v nvcc >/dev/null && [[ ! -x /usr/local/cuda/bin/nvcc ]]; then
      echo "gpu-check: nvcc not found; install the CUDA toolkit (13.0) or use --prebuilt" >&2
      exit 1
    fi
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
    cmake --build "$build" --target gpu_tests -j "${LOCKSTEP_JOBS:-$(nproc)}"
    if [[ $mode == --bundle ]]; then
      mkdir -p "$build/runtime-libs"
      ldd "$build/bin/gpu_tests" | awk '/=> \// {print $3}' | grep -E 'libabsl_|libgtest|libgmock' |
        xargs -r cp -L -t "$build/runtime-libs/"
      echo "gpu-check: bundled $(ls "$build/runtime-libs" | wc -l) libraries into $build/runtime-libs"
      exit 0
    fi
    ;;
  --prebuilt) ;;
  *)
    echo "gpu-check: unknown argument '$mode' (expected --bundle or --prebuilt)" >&2
    exit 2
    ;;
esac

if [[ ! -x $build/bin/gpu_tests ]]; then
  echo "gpu-check: $build/bin/gpu_tests is missing; run scripts/gpu-check.sh without --prebuilt" >&2
  exit 1
fi
if [[ -d $build/runtime-libs ]]; then
  export LD_LIBRARY_PATH="$root/$build/runtime-libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# Without a GPU the tests would skip; here that is a failure.
export LOCKSTEP_REQUIRE_GPU=1
if command -v nvidia-smi >/dev/null; then nvidia-smi -L || true; fi

configured_in=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
if [[ $configured_in == "$root" ]]; then
  cd "$build"
  ctest -L gpu --output-on-failure
else
  # ctest's files hold absolute paths of the host that configured the build.
  echo "gpu-check: $build was configured in '$configured_in', not here; running gpu_tests directly"
  "$build/bin/gpu_tests"
fi
