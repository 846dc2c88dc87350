#!/usr/bin/env bash
# C-level tests of the vector primitives (src/softmax/simd/README.md, "Tests"): builds
# tests/c/test_simd.c once per ISA and runs it.
#   x86-64: avx512, avx2, sse2 and scalar -- those this CPU runs (/proc/cpuinfo) -- with gcc,
#           and with clang if it is installed;
#   AArch64: neon and scalar, cross-compiled (aarch64-linux-gnu-gcc -static, and clang if
#           installed) and run under qemu-aarch64.
# Installs gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user with apt-get when they
# are missing (and says so). Warnings are errors. Exits nonzero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

SRC=tests/c/test_simd.c
INC=src/softmax/simd
CFLAGS=(-std=c99 -O2 -Wall -Wextra -Wpedantic -Werror -ffp-contract=off -I"$INC")
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
passed=0
failed=0

# run NAME CC FLAGS... -- [RUNNER]: build, run, count
run() {
    local name=$1 cc=$2; shift 2
    local flags=() runner=()
    while [[ $# -gt 0 && $1 != -- ]]; do flags+=("$1"); shift; done
    [[ $# -gt 0 ]] && shift && runner=("$@")
    local exe="$OUT/$name"
    if ! "$cc" "${CFLAGS[@]}" "${flags[@]}" "$SRC" -o "$exe" -lm; then
        echo "test_simd $name: BUILD FAILED ($cc ${flags[*]})"
        failed=$((failed + 1))
        return
    fi
    if "${runner[@]}" "$exe"; then
        passed=$((passed + 1))
    else
        echo "test_simd $name: FAILED"
        failed=$((failed + 1))
    fi
}

AVX512=(-DSMX_ISA_AVX512 -mavx512f -mavx512dq -mavx512bw -mavx512vl -mavx2 -mfma -mbmi -mbmi2)
AVX2=(-DSMX_ISA_AVX2 -mavx2 -mfma)

if [[ $(uname -m) == x86_64 ]]; then
    flags=" $(grep -m1 '^flags' /proc/cpuinfo) "
    has() { local f; for f in "$@"; do [[ $flags == *" $f "* ]] || return 1; done; }
    compilers=(gcc)
    command -v clang >/dev/null && compilers+=(clang)
    for cc in "${compilers[@]}"; do
        if has avx512f avx512dq avx512bw avx512vl avx2 fma bmi1 bmi2; then
            run "avx512-$cc" "$cc" "${AVX512[@]}"
        else
            echo "test_simd avx512-$cc: skipped (this CPU has no AVX-512 F/DQ/BW/VL)"
        fi
        if has avx2 fma; then
            run "avx2-$cc" "$cc" "${AVX2[@]}"
        else
            echo "test_simd avx2-$cc: skipped (this CPU has no AVX2+FMA)"
        fi
        run "sse2-$cc" "$cc" -DSMX_ISA_SSE2
        run "scalar-$cc" "$cc" -DSMX_ISA_SCALAR
    done
else
    echo "test_simd: not x86-64 ($(uname -m)): the native runs cover the default ISA and scalar"
    run "native-cc" cc
    run "scalar-cc" cc -DSMX_ISA_SCALAR
fi

# AArch64 under emulation
if [[ $(uname -m) != aarch64 ]]; then
    if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null \
        || [[ ! -e /usr/aarch64-linux-gnu/lib/libc.a ]]; then
        echo "test_simd: installing gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user >/dev/null
    fi
    run neon-aarch64-gcc aarch64-linux-gnu-gcc -static -DSMX_ISA_NEON -- qemu-aarch64
    run scalar-aarch64-gcc aarch64-linux-gnu-gcc -static -DSMX_ISA_SCALAR -- qemu-aarch64
    if command -v clang >/dev/null; then
        run neon-aarch64-clang clang --target=aarch64-linux-gnu -static -DSMX_ISA_NEON -- qemu-aarch64
    fi
fi

echo "test_simd: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
