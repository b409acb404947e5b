#!/usr/bin/env bash
# Fuzzes every loader (tests/fuzz): builds the targets into build-fuzz/ with
# ASan and UBSan (and libFuzzer when clang++ and its fuzzer runtime are
# installed), makes seed corpora from the examples and presets in
# build-fuzz/corpus/<target>/, and runs each target for T seconds (default
# 20). Fails on any crash, hang (10 s), sanitizer report or allocation over
# 2 GiB. Without clang each target runs once over its corpus instead.
# Needs build/lpusim (made by .ci/setup.sh) for the corpora.
#   usage: .ci/fuzz.sh [seconds-per-target]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs=${1:-20}
start=$(date +%s)
targets=(asm binary chip system graph model safetensors)
lpusim=build/lpusim
[ -x "$lpusim" ] || { echo "fuzz: $lpusim not built (run .ci/setup.sh)"; exit 1; }

mode=plain cxx=g++
if command -v clang++ >/dev/null && compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  mode=libfuzzer cxx=clang++
fi
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLPUSIM_FUZZ=ON -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_all

# Seed corpora.
c=build-fuzz/corpus
rm -rf "$c" && mkdir -p "${targets[@]/#/$c/}"
for s in examples/asm/*.s; do
  cp "$s" "$c/asm/"
  "$lpusim" asm "$s" -o "$c/binary/$(basename "$s" .s).bin"
done
for p in groq-tsp-v1 teaching; do "$lpusim" chips --show "$p" >"$c/chip/$p.json"; done
for p in groq-node groq-rack groq-576 groq-dragonfly; do "$lpusim" systems --show "$p" >"$c/system/$p.json"; done
cp examples/graphs/*.json "$c/graph/"
cp models/configs/*.json "$c/model/"
# A small safetensors file: 8-byte little-endian header length, JSON header, data.
head='{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},"c":{"dtype":"BF16","shape":[1,2,1],"data_offsets":[22,26]}}'
printf "\\x$(printf %02x ${#head})\\0\\0\\0\\0\\0\\0\\0%s" "$head" >"$c/safetensors/small.safetensors"
head -c 26 /dev/urandom >>"$c/safetensors/small.safetensors"
for t in "${targets[@]}"; do
  [ -d "tests/fuzz/regressions/$t" ] && cp tests/fuzz/regressions/"$t"/* "$c/$t/"
done

export ASAN_OPTIONS=allocator_may_return_null=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${targets[@]}"; do
  echo "fuzz: $t ($mode)"
  if [ "$mode" = libfuzzer ]; then
    mkdir -p "build-fuzz/artifacts/$t"
    "build-fuzz/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t/" "$c/$t" 2>"build-fuzz/fuzz_$t.log" ||
      { tail -40 "build-fuzz/fuzz_$t.log"; echo "fuzz: $t FAILED (input in build-fuzz/artifacts/$t/)"; exit 1; }
    grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "build-fuzz/fuzz_$t.log" | tail -1
  else
    "build-fuzz/fuzz_$t" "$c/$t" 2>"build-fuzz/fuzz_$t.log" ||
      { tail -40 "build-fuzz/fuzz_$t.log"; echo "fuzz: $t FAILED"; exit 1; }
    tail -1 "build-fuzz/fuzz_$t.log"
  fi
done
echo "fuzz: all ${#targets[@]} targets passed ($mode, ${secs}s each) in $(($(date +%s) - start)) s"
