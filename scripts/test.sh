#!/usr/bin/env bash
# The test command: installs everything it needs into .venv, then runs pytest offline.
# pytest's exit code 5 ("no tests collected") is turned into a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh || exit 1
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export LANG=C.UTF-8 LC_ALL=C.UTF-8 PYTHONUTF8=1
export RADEVAL_HOME="${RADEVAL_HOME:-$PWD/.radeval-home}"
"${RADEVAL_VENV:-.venv}/bin/python" -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    exit 1
fi
exit "$rc"
