#!/usr/bin/env bash
# Put LLVM's OpenMP runtime (lib/libomp.dylib, include/omp.h) into PREFIX for the macOS wheels:
# cibuildwheel runs this once per macOS job (before-all in pyproject.toml), the build compiles
# and links against it (SOFTMAX_MACOS_OPENMP=1, CFLAGS, LDFLAGS there), and delocate copies
# libomp.dylib into each wheel (softmax/.dylibs/).
#
#   bash tools/macos_libomp.sh [PREFIX]        (default /tmp/softmax-libomp; macOS only)
#
# The runtime comes from the cmeel-libomp wheel on PyPI (LLVM libomp 21.1.8), pinned by version
# and sha256. It is built for macOS 10.13 (x86_64) and 11.0 (arm64), so wheels that vendor it
# can target those versions (MACOSX_DEPLOYMENT_TARGET in pyproject.toml; delocate refuses a
# library built for a newer macOS than the wheel's tag). Homebrew's libomp is built for the
# build machine's own macOS, which would raise the wheels' minimum to that.
set -euo pipefail

PREFIX=${1:-/tmp/softmax-libomp}
VERSION=21.1.8
SHA_X86_64=b8c1f76f32c097ec88cc9c1bb42680f54f67b4ae9977a86339f7babb5cf43650  # macosx_10_9_x86_64
SHA_ARM64=74dd38d15da7ab1806d231b1f2be80a5fb6a1d404575678a0d75223aeb37f1f3   # macosx_11_0_arm64

[[ "$(uname -s)" == Darwin ]] || { echo "macos_libomp.sh: macOS only" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cat > "$WORK/requirements.txt" <<EOF
cmeel-libomp==$VERSION --hash=sha256:$SHA_X86_64 --hash=sha256:$SHA_ARM64
EOF
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    --no-deps --require-hashes --target "$WORK/site" -r "$WORK/requirements.txt"

# Only libomp itself and its headers (the wheel also holds libgomp/libiomp5 aliases of it).
mkdir -p "$PREFIX/lib" "$PREFIX/include"
cp "$WORK/site/cmeel.prefix/lib/libomp.dylib" "$PREFIX/lib/"
cp "$WORK/site/cmeel.prefix/include/"omp*.h "$PREFIX/include/"
echo "libomp $VERSION in $PREFIX ($(uname -m)):"
otool -L "$PREFIX/lib/libomp.dylib"
otool -l "$PREFIX/lib/libomp.dylib" | grep -E -A4 'LC_BUILD_VERSION|LC_VERSION_MIN_MACOSX' \
    | grep -E 'minos|version' || true
