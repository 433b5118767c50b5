#!/usr/bin/env bash
# GPU check for the answer path: build llama-cpp-python with CUDA, replay the answer
# benchmark with every layer offloaded, and print decode tokens/s and time to first
# token against a CPU run of the same prompts, on the same machine.
#
# Needs on the GPU machine (no internet there):
#   - python3.11+, nvcc and an NVIDIA driver;
#   - this repo (knowledge/ and mentor_local/ are tracked files);
#   - a replay file made on any machine with the full environment:
#       .venv/bin/python scripts/bench/answer_bench.py --save-replay bench-data/answer-replay.json
#   - the GGUF: --model PATH (default: models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf);
#   - the llama-cpp-python 0.3.36 sdist and small wheels (numpy, jinja2, markupsafe, diskcache,
#     typing-extensions, pyyaml) in a wheelhouse (or already installed there: the venv sees the
#     system site-packages). Make it on a machine with the registry, small enough to carry
#     (the sdist is 73 MB with a .git pack, docs and test vocabularies; about 12 MB without):
#       scripts/gpu_check.sh --make-wheelhouse .whl
#
# Usage:
#   scripts/gpu_check.sh [--cpu-only] [--model GGUF] [--replay FILE] [--wheelhouse DIR] [--questions N]
#   --cpu-only: no CUDA build; runs both passes on the CPU with the current python (a dry run of the script).
#   --make-wheelhouse DIR: download and slim the sdist + small wheels into DIR, then exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CPU_ONLY=0
MODEL="$ROOT/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MAKE_WHEELHOUSE=""
REPLAY="$ROOT/bench-data/answer-replay.json"
WHEELHOUSE="$ROOT/.whl"
QUESTIONS=6
PAIRS=3
PY="${PYTHON:-python3}"
WORK="${GPU_CHECK_DIR:-$(mktemp -d /tmp/gpu-check.XXXXXX)}"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --cpu-only) CPU_ONLY=1 ;;
    --make-wheelhouse) MAKE_WHEELHOUSE="$2"; shift ;;
    --model) MODEL="$2"; shift ;;
    --replay) REPLAY="$2"; shift ;;
    --wheelhouse) WHEELHOUSE="$2"; shift ;;
    --questions) QUESTIONS="$2"; shift ;;
    --pairs) PAIRS="$2"; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "gpu_check: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "gpu_check: $*" >&2; exit 2; }

if [[ -n "${MAKE_WHEELHOUSE:-}" ]]; then
  mkdir -p "$MAKE_WHEELHOUSE"
  tmp="$(mktemp -d)"
  "$PY" -m pip download --no-deps --no-binary :all: "llama-cpp-python==0.3.36" -d "$tmp" >/dev/null
  tar xzf "$tmp/llama_cpp_python-0.3.36.tar.gz" -C "$tmp"
  src="$tmp/llama_cpp_python-0.3.36"
  # Not needed to build the library: git history, docs, test vocabularies, web UI, benches, media.
  rm -rf "$src/.git" "$src/vendor/llama.cpp/docs" "$src/vendor/llama.cpp/benches" "$src/vendor/llama.cpp/media" \
         "$src/vendor/llama.cpp/tools/ui" "$src/vendor/llama.cpp/tools/mtmd/test-3.mp4"
  find "$src/vendor/llama.cpp/models" -name "*.gguf*" -delete
  tar czf "$MAKE_WHEELHOUSE/llama_cpp_python-0.3.36.tar.gz" -C "$tmp" llama_cpp_python-0.3.36
  # Build requirements too (pip builds in an isolated env, offline from this folder); cmake comes from the
  # system when it is new enough (>= 3.21), else add: pip download cmake -d DIR.
  "$PY" -m pip download --only-binary :all: numpy jinja2 markupsafe diskcache typing-extensions pyyaml \
    scikit-build-core pathspec packaging \
    -d "$MAKE_WHEELHOUSE" >/dev/null
  rm -rf "$tmp"
  du -sh "$MAKE_WHEELHOUSE"; ls -la "$MAKE_WHEELHOUSE"
  exit 0
fi
[[ -f "$MODEL" ]] || die "no model at $MODEL (pass --model PATH)"
[[ -f "$REPLAY" ]] || die "no replay file at $REPLAY (make it with answer_bench.py --save-replay)"
echo "== gpu_check: work dir $WORK, model $MODEL, replay $REPLAY"

if [[ $CPU_ONLY == 1 ]]; then
  RUNPY="$PY"
  GPU_LAYERS="0"
  echo "== --cpu-only: skipping the CUDA build; both passes run on the CPU with $RUNPY"
else
  command -v nvcc >/dev/null || die "nvcc not found: install the CUDA toolkit or use --cpu-only"
  nvidia-smi -L || die "nvidia-smi failed: no usable GPU"
  nvcc --version | tail -1
  "$PY" -m venv --system-site-packages "$WORK/venv"
  RUNPY="$WORK/venv/bin/python"
  PIP=("$RUNPY" -m pip install --no-input --disable-pip-version-check)
  if [[ -d "$WHEELHOUSE" ]]; then PIP+=(--no-index --find-links "$WHEELHOUSE"); fi
  # Native arch of the card we are on (H100: 90); building for one arch keeps the build short.
  ARCH="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')"
  # The CPU part gets this CPU's own instruction sets except AMX (a -march=native build dies with SIGILL on
  # AMX Xeons, which many GPU boxes have): the same flags `make setup` uses, from scripts/build_llama.py.
  CPU_ARGS="$("$PY" "$ROOT/scripts/build_llama.py" --print-cpu-args)" || die "could not read this CPU's flags"
  echo "== building llama-cpp-python with CUDA for sm_${ARCH:-native} (several minutes); CPU part: $CPU_ARGS"
  t0=$(date +%s)
  CMAKE_ARGS="$CPU_ARGS -DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=${ARCH:-native}" FORCE_CMAKE=1 \
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "${PIP[@]}" --no-cache-dir --force-reinstall "llama-cpp-python==0.3.36" >"$WORK/build.log" 2>&1 \
    || { tail -40 "$WORK/build.log"; die "CUDA build failed (log: $WORK/build.log)"; }
  echo "== built in $(( $(date +%s) - t0 ))s"
  "${PIP[@]}" pyyaml >/dev/null 2>&1 || true
  GPU_LAYERS="auto"
  "$RUNPY" -c "import llama_cpp; assert llama_cpp.llama_supports_gpu_offload(), 'this build cannot offload'; print('== GPU offload supported')"
  # The smoke test make setup runs: load the model and decode a few tokens in a child (all layers offloaded).
  PYTHONPATH="$ROOT" "$RUNPY" -c "import sys; from pathlib import Path; from mentor_local.runtime_build import smoke_test
r = smoke_test(Path(sys.argv[1]), python=sys.executable, timeout=300)
print('== smoke test:', r.detail); sys.exit(0 if r.ok else 1)" "$MODEL" || die "the CUDA build failed its smoke test"
fi

run_pass() {  # $1: label, $2: gpu layers
  echo "== pass $1 (gpu_layers=$2)"
  PYTHONPATH="$ROOT" "$RUNPY" "$ROOT/scripts/bench/answer_bench.py" --replay "$REPLAY" --model "$MODEL" \
    --gpu-layers "$2" --questions "$QUESTIONS" --pairs "$PAIRS" --json-out "$WORK/$1.json" | tail -40
}

run_pass cpu 0
run_pass gpu "$GPU_LAYERS"

"$RUNPY" - "$WORK/cpu.json" "$WORK/gpu.json" <<'EOF'
import json, sys
cpu, gpu = (json.load(open(p))["summary"] for p in sys.argv[1:3])
print("\n== GPU vs CPU (same prompts, same machine)")
print(f"{'':28s}{'CPU':>12s}{'GPU':>12s}")
for key in ("decode_tok_s_mentor", "decode_tok_s_raw", "ttft_cold_median_s", "ttft_follow_up_median_s",
            "mean_total_s", "six_sections_in_order", "unbacked_citations_left", "model_load_s"):
    print(f"{key:28s}{str(cpu.get(key)):>12s}{str(gpu.get(key)):>12s}")
print(f"gpu_layers: cpu={cpu['model']['gpu_layers']} gpu={gpu['model']['gpu_layers']}")
EOF
