#!/usr/bin/env bash
# Set-up, then the whole test suite (each test case in its own process), the
# suite under ASan+UBSan (.ci/sanitize.sh),
# then the fuzz targets (.ci/fuzz.sh), then the format check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash .ci/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
bash .ci/sanitize.sh
bash .ci/fuzz.sh
bash .ci/format.sh
