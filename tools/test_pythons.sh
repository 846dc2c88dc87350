#!/usr/bin/env bash
# The test suite under every CPython from 3.10 to 3.13 on this machine, each in a fresh virtual
# environment, as a user installs it:
#
#   pip install ".[test]"                   (compiles the kernels for that Python)
#   + the optional array libraries ("interop", below)
#   python -m softmax --no-bench && python -m pytest
#
# run from a snapshot of the source tree (tracked and untracked files, no build products), so
# `import softmax` finds the installed package. One Python after another; about 4-8 minutes each
# on two cores (mostly compiling and installing).
#
# Interop: the tests of optional dependencies (torch, JAX, pandas, array-api-strict, dask,
# dask.distributed, xarray) need them installed. On 3.11 they are mandatory (and SOFTMAX_REQUIRE_INTEROP=1 makes
# a missing one fail its tests rather than skip): torch==2.13.0 is the CPU build that lies on this
# machine's disk (pip's find-links; installed with --no-index, so it can never fall back to
# PyPI's multi-GB CUDA build), and any package that fails to install fails the run. On the other
# Pythons torch is never installed (PyPI has only the multi-GB CUDA build for Linux), and each
# other package is installed where it installs; one that does not is reported and skipped.
#
# Environment: PYTHONS (default "3.10 3.11 3.12 3.13": minor versions, or paths to
#   interpreters), INTEROP=0 (install no optional packages), INTEROP_PACKAGES (default below),
#   KEEP=1 (keep the work directory). A version with no interpreter found is a failure.
# Exits non-zero if any Python is missing or any install or test run fails.
set -euo pipefail

START=$SECONDS
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHONS=${PYTHONS:-3.10 3.11 3.12 3.13}
INTEROP=${INTEROP:-1}
INTEROP_PACKAGES=${INTEROP_PACKAGES:-pandas jax array-api-strict array-api-compat dask distributed xarray}
TORCH_311=torch==2.13.0     # the CPU build on disk, for CPython 3.11 only
WORK=$(mktemp -d "${TMPDIR:-/tmp}/softmax-pythons.XXXXXX")
if [[ "${KEEP:-}" == 1 ]]; then
    trap 'echo "work directory kept: $WORK"' EXIT
else
    trap 'rm -rf "$WORK"' EXIT
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
unset SOFTMAX_ISA PYTHONPATH || true

step() { printf '\n==> [%4ds] %s\n' "$((SECONDS - START))" "$*"; }
# pip, quietly; drops the noise of index locations configured but absent on a machine.
pip_q() {  # venv args...
    local venv=$1
    shift
    "$venv/bin/python" -m pip -q "$@" 2>&1 | { grep -v 'is neither a file nor a directory' || true; }
}

# An interpreter for a minor version: pyenv's newest of that series, else pythonX.Y on PATH.
find_python() {  # 3.11 | /path/to/python
    local v=$1 p
    if [[ "$v" == */* ]]; then
        [[ -x "$v" ]] && echo "$v"
        return 0
    fi
    for p in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v" 2>/dev/null \
               | sort -V -r); do
        if [[ "$p" =~ /versions/$v\.[0-9]+/ ]]; then   # not 3.13.0t and the like
            echo "$p"
            return 0
        fi
    done
    command -v "python$v" || true
}

echo "work directory: $WORK"
SRC=$WORK/src
mkdir -p "$SRC"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do if [[ -e "$f" ]]; then printf '%s\0' "$f"; fi; done \
        | tar --null -T - -cf -) > "$WORK/src.tar"
else
    (cd "$ROOT" && tar --exclude='*.so' --exclude='*.c' --exclude=build --exclude=dist \
        --exclude=wheelhouse --exclude='.venv*' --exclude='*.egg-info' -cf - .) > "$WORK/src.tar"
fi

RESULTS=()
FAILED=0
for want in $PYTHONS; do
    PY=$(find_python "$want")
    if [[ -z "$PY" ]]; then
        RESULTS+=("$(printf '%-8s %-10s %s' "$want" "-" "MISSING: no interpreter found")")
        FAILED=1
        continue
    fi
    ver=$("$PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
    minor=${ver%.*}
    step "CPython $ver ($PY)"
    tree=$WORK/src-$ver venv=$WORK/venv-$ver log=$WORK/pytest-$ver.log
    mkdir -p "$tree"
    tar -xf "$WORK/src.tar" -C "$tree"
    "$PY" -m venv "$venv"
    pip_q "$venv" install --upgrade pip
    echo "pip install \".[test]\" (compiling the kernels)"
    if ! (cd "$tree" && pip_q "$venv" install ".[test]"); then
        RESULTS+=("$(printf '%-8s %-10s %s' "$minor" "$ver" "FAILED: pip install .[test]")")
        FAILED=1
        continue
    fi
    interop="none"
    if [[ "$INTEROP" != 0 ]]; then
        ok=() missing=() fail=0
        if [[ "$minor" == 3.11 ]]; then
            echo "interop (mandatory on 3.11): $TORCH_311 (from disk) $INTEROP_PACKAGES"
            # torch from this machine's find-links only, then its own dependencies from PyPI.
            if pip_q "$venv" install --no-index --no-deps "$TORCH_311" \
                    && pip_q "$venv" install "$TORCH_311"; then
                ok+=("$TORCH_311")
            else
                missing+=("$TORCH_311") fail=1
            fi
        else
            echo "interop (where they install; torch only on 3.11): $INTEROP_PACKAGES"
        fi
        for pkg in $INTEROP_PACKAGES; do
            if pip_q "$venv" install --only-binary=:all: "$pkg"; then
                ok+=("$pkg")
            else
                missing+=("$pkg")
                if [[ "$minor" == 3.11 ]]; then fail=1; fi
            fi
        done
        interop="${ok[*]:-none}${missing[*]:+ (not installed: ${missing[*]})}"
        if [[ $fail == 1 ]]; then
            RESULTS+=("$(printf '%-8s %-10s %s' "$minor" "$ver" "FAILED: interop install ($interop)")")
            FAILED=1
            continue
        fi
    fi
    echo "interop: $interop"
    if ! (cd "$tree" && "$venv/bin/python" - <<'EOF'
import os, sysconfig
import softmax
where = os.path.realpath(softmax.__file__)
site = os.path.realpath(sysconfig.get_paths()["platlib"])
assert where.startswith(site + os.sep), f"softmax imported from {where}, not from {site}"
EOF
    ) || ! (cd "$tree" && "$venv/bin/python" -m softmax --no-bench); then
        RESULTS+=("$(printf '%-8s %-10s %s' "$minor" "$ver" "FAILED: import / python -m softmax")")
        FAILED=1
        continue
    fi
    status=0
    # on 3.11 a missing optional library fails its tests rather than skipping them
    require=0
    if [[ "$minor" == 3.11 && "$INTEROP" != 0 ]]; then require=1; fi
    (cd "$tree" && SOFTMAX_REQUIRE_INTEROP=$require "$venv/bin/python" -m pytest -q -p no:cacheprovider) \
        2>&1 | tee "$log" || status=$?
    summary=$(grep -E '^=*.*[0-9]+ (passed|failed|error)' "$log" | tail -n 1 | tr -d '=' \
              | sed 's/^ *//; s/ *$//')
    if [[ $status == 0 ]]; then
        RESULTS+=("$(printf '%-8s %-10s %s' "$minor" "$ver" "ok: ${summary:-?}; interop: $interop")")
    else
        RESULTS+=("$(printf '%-8s %-10s %s' "$minor" "$ver" "FAILED (pytest exit $status): ${summary:-?}; interop: $interop")")
        FAILED=1
    fi
    rm -rf "$tree" "$venv"   # disk: each venv holds a few hundred MB with the interop packages
done

step "summary ($((SECONDS - START)) s)"
printf '%s\n' "${RESULTS[@]}"
exit $FAILED
