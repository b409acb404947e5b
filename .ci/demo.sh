#!/usr/bin/env bash
# Set-up, then the demo: one int8 decode step of the bundled tiny-llama on
# groq-tsp-v1, compiled and simulated, with its cycles, tokens/s and layers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash .ci/setup.sh
./build/lpusim run --model tiny-llama --context 128 --layers
