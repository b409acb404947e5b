#!/usr/bin/env bash
# Checks that every C++ file of the tree is formatted with .clang-format
# (clang-format from Debian's clang-format package); --fix rewrites them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
files=$(git ls-files '*.cpp' '*.h')
if [ "${1:-}" = "--fix" ]; then
  echo "$files" | xargs clang-format -i
  exit 0
fi
bad=()
for f in $files; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "error: not formatted with .clang-format (run: bash .ci/format.sh --fix): ${bad[*]}" >&2
  exit 1
fi
echo "format: $(echo "$files" | wc -l) files match .clang-format"
