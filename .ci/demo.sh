#!/usr/bin/env bash
# Set-up, then the demo: an int8 GEMV on one MXM plane of groq-tsp-v1,
# assembled and simulated, with its cycle count and time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash .ci/setup.sh
./build/lpusim asm examples/asm/gemv_int8.s -o build/gemv_int8.bin
./build/lpusim sim build/gemv_int8.bin --chip groq-tsp-v1
