#!/usr/bin/env bash
# The main job: the offline demo benchmark on embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export LANG=C.UTF-8 LC_ALL=C.UTF-8 PYTHONUTF8=1
exec "${RADEVAL_VENV:-.venv}/bin/radeval" bench benchmarks/demo.yaml "$@"
