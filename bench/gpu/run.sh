#!/usr/bin/env bash
# Builds gpu_bench for sm_90 in a fresh build directory and runs it once: each GPU primitive's
# throughput as a fraction of the device-to-device copy bandwidth measured in the same run, next
# to the goals (elementwise and reductions >= 75%, filter >= 60%, group-by with few groups
# >= 60%), PASS/FAIL of each result against a plain CPU computation on the same data, and the
# edge-case self-test. Meant for ONE short session on a machine with an H100; needs no network.
#
#   bench/gpu/run.sh [gpu_bench arguments: --rows N (default 100M), --reps N, --selftest]
#
# Prints the markdown table on stdout; with $OUT set, also writes $OUT/gpu_bench.md and the build
# log. Exit status: gpu_bench's (1 when a check failed), or 3 when the build failed.
#
# Build: the project's CMake (-DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release, target
# gpu_bench only, all cores) when the project configures on this machine; a bare GPU machine
# usually lacks the other dependencies (DuckDB from scripts/bootstrap, GTest, ...), so otherwise
# the dozen sources gpu_bench needs are compiled directly with nvcc and the host compiler
# (AIDI_GPU_BENCH_DIRECT=1 forces that).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
B=${AIDI_GPU_BENCH_BUILD:-$ROOT/build-gpu-bench}
JOBS=$(nproc)
export PATH=$PATH:/usr/local/cuda/bin
command -v nvcc >/dev/null || { echo "run.sh: nvcc not found" >&2; exit 3; }
CUDA_HOME=${CUDA_HOME:-$(dirname "$(dirname "$(command -v nvcc)")")}
CXX=${CXX:-g++}

rm -rf "$B"
mkdir -p "$B"
LOG=$B/build.log
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv >&2 2>/dev/null || true
nvcc --version | tail -2 >&2
start=$(date +%s)

BIN=""
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
if [[ -z ${AIDI_GPU_BENCH_DIRECT:-} ]] && command -v cmake >/dev/null &&
  cmake -S "$ROOT" -B "$B" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DAIDI_CUDA=ON >"$LOG" 2>&1 &&
  cmake --build "$B" -j "$JOBS" --target gpu_bench >>"$LOG" 2>&1; then
  BIN=$B/bench/gpu_bench
else
  echo "run.sh: compiling gpu_bench directly (the project's CMake build is skipped or does not" \
    "work here: $LOG)" >&2
  tail -5 "$LOG" >&2 2>/dev/null || true
  D=$B/direct
  mkdir -p "$D"
  CC_SRCS=(base/status.cc cuda-workers/duckdb/column.cc
    cuda-workers/expr/ast.cc cuda-workers/expr/parser.cc cuda-workers/expr/bind.cc
    cuda-workers/expr/sql.cc cuda-workers/expr/program.cc cuda-workers/expr/eval.cc
    cuda-workers/gpu/gpu.cc cuda-workers/gpu/runtime.cc
    bench/gpu/gpu_bench.cc bench/gpu/reference.cc bench/gpu/selftest.cc)
  CU_SRCS=(cuda-workers/gpu/elementwise.cu cuda-workers/gpu/select.cu cuda-workers/gpu/sort_group.cu)
  pids=()
  for f in "${CC_SRCS[@]}"; do
    "$CXX" -std=c++20 -O2 -DNDEBUG -I"$ROOT" -isystem "$CUDA_HOME/include" -c "$f" \
      -o "$D/$(echo "$f" | tr / _).o" >>"$LOG" 2>&1 &
    pids+=($!)
  done
  for f in "${CU_SRCS[@]}"; do
    nvcc -std=c++20 -O3 -arch=sm_90 --prec-div=true --prec-sqrt=true -lineinfo -I"$ROOT" \
      -ccbin "$CXX" -c "$f" -o "$D/$(echo "$f" | tr / _).o" >>"$LOG" 2>&1 &
    pids+=($!)
  done
  ok=1
  for p in "${pids[@]}"; do wait "$p" || ok=0; done
  if ((ok)) && nvcc -ccbin "$CXX" -arch=sm_90 -o "$D/gpu_bench" "$D"/*.o -lpthread >>"$LOG" 2>&1; then
    BIN=$D/gpu_bench
  fi
fi
[[ -n ${OUT:-} ]] && cp "$LOG" "$OUT/gpu_bench_build.log" 2>/dev/null || true
if [[ -z $BIN || ! -x $BIN ]]; then
  echo "run.sh: build failed; last lines of $LOG:" >&2
  tail -40 "$LOG" >&2
  exit 3
fi
echo "run.sh: gpu_bench built in $(($(date +%s) - start)) s ($BIN)" >&2
rc=0
"$BIN" "$@" || rc=$?
echo "run.sh: done in $(($(date +%s) - start)) s, gpu_bench exit status $rc" >&2
exit "$rc"
