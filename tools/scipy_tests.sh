#!/usr/bin/env bash
# scipy's own tests of softmax, log_softmax and logsumexp, run against this library.
#
# The installed scipy's scipy/special/tests/test_logsumexp.py is copied beside the original
# with `from scipy.special import log_softmax, logsumexp, softmax` swapped for this library's
# functions, run there with pytest (so scipy's own conftest.py applies: its `xp` fixture, its
# markers and warning filters; NumPy backend, SCIPY_ARRAY_API unset), and removed on exit.
# Nothing of scipy's is committed here.
#
# Usage: bash tools/scipy_tests.sh [pytest args...]   (the Python on PATH, which must import
# both softmax and scipy; PYTHON=... to choose another)
#
# Where this library deliberately differs from scipy (README "Semantics", docs/arrays.md), a
# case of scipy's file that meets the difference is listed in EXPECTED_FAILURES below with its
# reason and run as a strict expected failure. The list is empty: every case passes.
set -euo pipefail

PYTHON=${PYTHON:-python}
# Entries are Python dict items, '"<test name as pytest shows it after ::>": "<reason>"'.
EXPECTED_FAILURES=(
)

TESTS=$("$PYTHON" -c 'import os, scipy.special; print(os.path.join(os.path.dirname(scipy.special.__file__), "tests"))')
ORIG=$TESTS/test_logsumexp.py
[[ -f "$ORIG" ]] || { echo "scipy_tests.sh: $ORIG not found (scipy installed without its tests?)" >&2; exit 1; }
COPY=$(mktemp "$TESTS/test_logsumexp_softmax_kernels_XXXXXX.py")
trap 'rm -f "$COPY"; rm -f "$TESTS"/__pycache__/"$(basename "${COPY%.py}")".*.pyc' EXIT

IMPORT='from scipy.special import log_softmax, logsumexp, softmax'
grep -qxF "$IMPORT" "$ORIG" || { echo "scipy_tests.sh: the line '$IMPORT' is not in $ORIG" >&2; exit 1; }
{
    # scipy's functions stay importable under other names for make_xp_test_case (its table of
    # backend capabilities is keyed by them); the tests call this library's.
    sed -e "s/^$IMPORT\$/from scipy.special import log_softmax as _scipy_log_softmax, logsumexp as _scipy_logsumexp, softmax as _scipy_softmax\nfrom softmax import log_softmax, logsumexp, softmax  # swapped in by tools\/scipy_tests.sh/" \
        -e 's/make_xp_test_case(\([a-z_]*\))/make_xp_test_case(_scipy_\1)/' "$ORIG"
    if ((${#EXPECTED_FAILURES[@]})); then
        printf '\n\n# tools/scipy_tests.sh: deliberate differences from scipy, strict xfails\n'
        printf '_SOFTMAX_KERNELS_XFAIL = {\n'
        printf '    %s,\n' "${EXPECTED_FAILURES[@]}"
        printf '}\n\n\n'
        printf '@pytest.fixture(autouse=True)\n'
        printf 'def _softmax_kernels_xfail(request):\n'
        printf '    reason = _SOFTMAX_KERNELS_XFAIL.get(request.node.name)\n'
        printf '    if reason:\n'
        printf '        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))\n'
    fi
} > "$COPY"
grep -q '^from softmax import log_softmax, logsumexp, softmax' "$COPY"

"$PYTHON" - <<'PY'
import softmax, scipy
print(f"softmax {softmax.__version__} ({softmax.__file__}) against scipy {scipy.__version__}'s tests")
PY
# the softmax found here is the one tested there (a relative PYTHONPATH would not survive the cd)
HERE=$("$PYTHON" -c 'import os, softmax; print(os.path.dirname(os.path.dirname(os.path.abspath(softmax.__file__))))')
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"
# scipy's conftest.py sits in the scipy package folder: that folder as the rootdir makes pytest
# load it; -p no:cacheprovider writes nothing into site-packages.
cd "$TESTS/../.."
env -u SCIPY_ARRAY_API PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -m pytest -q -p no:cacheprovider --rootdir=. \
    "special/tests/$(basename "$COPY")" "$@"
