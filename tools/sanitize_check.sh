#!/usr/bin/env bash
# Run the test suite against a build with AddressSanitizer + UBSan and Cython bounds checks.
#
#   1. snapshot the source tree (tracked + untracked, not ignored files; no build products)
#      into a work directory -- the developer's editable install is never touched
#   2. a fresh venv (no system site-packages, so no editable-install finder can shadow the
#      sanitized build) with the build and test dependencies
#   3. SOFTMAX_SANITIZE=1 pip install of the snapshot into that venv (setup.py adds
#      -fsanitize=address,undefined -O1 -g and boundscheck/wraparound/initializedcheck)
#   4. checks that the imported softmax is the venv's, and that its kernels link libasan
#   5. pytest on a copy of tests/ with LD_PRELOAD=libasan:libubsan, once per ISA variant this
#      CPU runs (SOFTMAX_ISA), the robustness/fuzz/thread tests included; ASAN_OPTIONS
#      detect_leaks=0 (CPython's own allocations), UBSAN_OPTIONS halt_on_error=1
#   6. fails on any sanitizer report in the output, even one that did not stop the run
#
# Linux with gcc (or clang: CC=clang) only. Needs PyPI (or the configured index) for the venv.
# Environment: PYTHON (default python3), KEEP=1 keeps the work directory, ISAS="avx2 sse2"
# picks the variants (default: every one this CPU runs), PYTEST_ARGS adds pytest arguments.
set -euo pipefail

START=$SECONDS
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
CC=${CC:-gcc}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/softmax-sanitize.XXXXXX")
if [[ "${KEEP:-}" == 1 ]]; then
    trap 'echo "work directory kept: $WORK"' EXIT
else
    trap 'rm -rf "$WORK"' EXIT
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
unset SOFTMAX_ISA PYTHONPATH LD_PRELOAD || true

step() { printf '\n==> [%4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

[[ "$(uname -s)" == Linux ]] || die "this check runs on Linux only"
LIBASAN=$("$CC" -print-file-name=libasan.so)
LIBUBSAN=$("$CC" -print-file-name=libubsan.so)
[[ -e "$LIBASAN" && -e "$LIBUBSAN" ]] || die "libasan/libubsan not found via $CC -print-file-name"
echo "work directory: $WORK"
echo "preload: $LIBASAN $LIBUBSAN"

# ---------------------------------------------------------------------------------------------
step "snapshot of the source tree"
SRC=$WORK/src
mkdir -p "$SRC"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do if [[ -e "$f" ]]; then printf '%s\0' "$f"; fi; done \
        | tar --null -T - -cf -) | tar -xf - -C "$SRC"
else
    (cd "$ROOT" && tar --exclude='*.so' --exclude='*.c' --exclude=build --exclude=dist \
        --exclude=wheelhouse --exclude='.venv*' --exclude='*.egg-info' -cf - .) | tar -xf - -C "$SRC"
fi
find "$SRC" \( -name '*.so' -o -path '*/src/softmax/*.c' \) -delete
echo "$(find "$SRC" -type f | wc -l) files"

# ---------------------------------------------------------------------------------------------
step "venv (no system site-packages) with the build and test dependencies"
"$PYTHON" -m venv "$WORK/venv"
PY=$WORK/venv/bin/python
"$PY" -m pip install -q setuptools wheel "Cython>=3.1" "numpy>=2" pytest hypothesis scipy mpmath 2>&1 \
    | { grep -v 'is neither a file nor a directory' || true; }

step "SOFTMAX_SANITIZE=1 build and install (ASan + UBSan, -O1 -g, Cython bounds checks)"
if ! (cd "$SRC" && CC=$CC SOFTMAX_SANITIZE=1 "$PY" -m pip install -v --no-build-isolation --no-deps . \
        > "$WORK/build.log" 2>&1); then
    tail -n 60 "$WORK/build.log"
    die "the sanitized build failed (the end of its log is above)"
fi
grep -q -- '-fsanitize=address,undefined' "$WORK/build.log" || die "the build did not use -fsanitize"

# ---------------------------------------------------------------------------------------------
step "the sanitized build is what gets imported"
mkdir -p "$WORK/run"
cp -r "$SRC/tests" "$WORK/run/tests"
cd "$WORK/run"   # no softmax/ here: the import can only come from the venv
export LD_PRELOAD="$LIBASAN:$LIBUBSAN"
# Reports go to files (one per process, forked children included): pytest's output capture
# would swallow a report written to stderr by a test that then aborts.
# allocator_may_return_null=1: an impossible request (the MemoryError tests) returns NULL, as
# malloc does, instead of being reported as an error.
SAN=$WORK/reports
mkdir -p "$SAN"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1:detect_stack_use_after_return=1:strict_string_checks=1:log_path=$SAN/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$SAN/ubsan"
export SOFTMAX_SANITIZED_RUN=1
"$PY" - "$WORK/venv" <<'EOF'
import sys
import softmax
from softmax import _dispatch
print("softmax:", softmax.__file__)
assert softmax.__file__.startswith(sys.argv[1]), "softmax is not imported from the sanitized venv"
import subprocess
from softmax import _core
modules = [("_core", _core)] + [(level, _dispatch._load(level)) for level in _dispatch.available_isas()]
for name, module in modules:
    path = module.__file__
    print(f"  {name}: {path}")
    deps = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    assert "libasan" in deps, f"{name} is not linked with libasan:\n{deps}"
print("ISA variants:", ", ".join(_dispatch.available_isas()))
EOF
ISAS=${ISAS:-$("$PY" -c 'from softmax import _dispatch; print(" ".join(_dispatch.available_isas()))')}

# ---------------------------------------------------------------------------------------------
# Left out under the sanitizers: the RSS-growth test (ASan's quarantine holds freed memory by
# design) and the > 2**31-element tests (minutes at ASan speed; they read untouched zero pages).
DESELECT=(-k "not no_memory_growth and not 2_31")
status=0
for isa in $ISAS; do
    step "pytest under ASan + UBSan, SOFTMAX_ISA=$isa"
    log=$WORK/pytest-$isa.log
    set +e
    SOFTMAX_ISA=$isa "$PY" -m pytest tests -q -p no:cacheprovider "${DESELECT[@]}" \
        ${PYTEST_ARGS:-} > "$log" 2>&1
    rc=$?
    set -e
    tail -n 5 "$log"
    # a report is an ERROR/runtime error/SUMMARY; "WARNING: ... failed to allocate" lines are
    # the MemoryError tests' impossible requests (allocator_may_return_null=1)
    reports=$(grep -lE 'ERROR: |runtime error:|SUMMARY: ' "$SAN"/* 2>/dev/null | sort || true)
    for r in "$SAN"/*; do
        [[ -e "$r" ]] || continue
        [[ " $reports " == *" $r "* ]] || mv "$r" "$WORK/warnings.${r##*/}.$isa"
    done
    if [[ -n "$reports" ]] || grep -qE 'ERROR: AddressSanitizer|runtime error:' "$log"; then
        for r in $reports; do
            echo "---- $r"
            head -n 60 "$r"
            mv "$r" "$WORK/${r##*/}.$isa"   # out of $SAN: not reported again for the next ISA
        done
        grep -nE -A40 'ERROR: AddressSanitizer|runtime error:' "$log" | head -n 80 || true
        echo "FAIL: sanitizer report with SOFTMAX_ISA=$isa (pytest log: $log; KEEP=1 keeps it)" >&2
        status=1
    elif [[ $rc -ne 0 ]]; then
        tail -n 40 "$log"
        echo "FAIL: pytest exited with $rc with SOFTMAX_ISA=$isa" >&2
        status=1
    fi
done

step "done"
if [[ $status -ne 0 ]]; then
    die "sanitizer check failed"
fi
echo "OK: no AddressSanitizer/UBSan report; the test suite passed under the sanitizers for: $ISAS"
